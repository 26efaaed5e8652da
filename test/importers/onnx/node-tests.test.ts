// Every folder of test/fixtures/onnx-node-tests (ONNX backend node tests, see its INDEX.md) must
// either decode completely (model.onnx and every .pb) or be reported UNSUPPORTED with a named
// reason; any other outcome (a crash, a DECODE/GRAPH error) fails. Per-reason counts are printed.
// Also checks compareLikeUpstream on the decoded outputs (no tolerance is tuned: it is the
// upstream rtol=1e-3, atol=1e-7 and exact for integers).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../helpers/reference.js';
import { tryReadBackendTestFolder, compareLikeUpstream } from '../../../importers/onnx/backend-test-layout.js';
import { OnnxDataType, type OnnxTensor } from '../../../importers/onnx/model.js';

const ROOT = join(FIXTURES, 'onnx-node-tests');
const CASES = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'model.onnx'))).sort();

/** INDEX.md rows: name -> notes column. */
function indexNotes(): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(ROOT, 'INDEX.md'), 'utf8').split('\n')) {
    const cols = line.split('|').map((c) => c.trim());
    if (cols.length > 8 && cols[1]!.startsWith('test_')) m.set(cols[1]!, cols[7]!);
  }
  return m;
}

describe('ONNX backend node tests (fixtures)', () => {
  it('every folder decodes or is reported unsupported with a reason', () => {
    expect(CASES.length).toBeGreaterThan(500);
    const notes = indexNotes();
    expect(notes.size).toBe(CASES.length);
    const reasons = new Map<string, number>();
    const failures: string[] = [];
    let ok = 0, tensors = 0;
    for (const name of CASES) {
      const r = tryReadBackendTestFolder(join(ROOT, name));
      if (r.ok) {
        ok++;
        expect(r.testCase.dataSets.length).toBeGreaterThan(0);
        for (const ds of r.testCase.dataSets) {
          tensors += ds.inputs.length + ds.outputs.length;
          expect(ds.outputs.length).toBe(r.testCase.model.graph.outputs.length);
        }
        continue;
      }
      if (r.code !== 'UNSUPPORTED') failures.push(`${name}: ${r.message}`);
      reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
      // the INDEX.md notes name the non-tensor cases: they must be refused for exactly that reason
      const note = notes.get(name) ?? '';
      if (note.includes('SequenceProto')) expect(r.reason).toContain('SequenceProto');
      if (note.includes('OptionalProto')) expect(r.reason).toContain('OptionalProto');
    }
    const lines = [...reasons].sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${String(v).padStart(4)}  ${k}`);
    console.log(`node tests: ${CASES.length} folders, ${ok} decoded (${tensors} tensors), ` +
      `${CASES.length - ok} unsupported:\n${lines.join('\n')}`);
    expect(failures).toEqual([]);
  });

  it('compareLikeUpstream accepts each expected output against itself and rejects a perturbed copy', () => {
    let checked = 0;
    for (const name of CASES) {
      const r = tryReadBackendTestFolder(join(ROOT, name));
      if (!r.ok) continue;
      for (const e of r.testCase.dataSets[0]!.outputs) {
        expect(compareLikeUpstream(e, e)).toBeNull();
        if (e.data.length === 0) continue;
        const p = perturb(e);
        if (p === null) continue;
        expect(compareLikeUpstream(p, e), `${name}/${e.name}`).not.toBeNull();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(400);
  });
});

/** A copy with element 0 moved just outside the upstream tolerance (or changed by one for ints). */
function perturb(t: OnnxTensor): OnnxTensor | null {
  const d = t.data.slice();
  if (d instanceof Float32Array || d instanceof Float64Array) {
    const x = d[0]!;
    if (!Number.isFinite(x)) d[0] = 0;
    else d[0] = x + (1e-7 + 1e-3 * Math.abs(x)) * 1.5 + (t.dataType === OnnxDataType.FLOAT16 ? Math.abs(x) * 2e-3 : 0);
    if (d[0] === x) return null; // too large to move in float32
  } else if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    d[0] = d[0]! === 0n ? 1n : d[0]! - 1n;
  } else {
    d[0] = d[0]! === 0 ? 1 : d[0]! - 1;
  }
  return { ...t, data: d };
}
