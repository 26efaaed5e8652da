// ONNX backend node tests through the whole importer and runtime (importers/onnx/conformance.ts):
// every case of test/fixtures/onnx-node-tests is imported, compiled, run and compared as upstream
// does (same dtype and shape; rtol 1e-3, atol 1e-7 for floats, exact for integers and bools; the
// upstream defaults, not tuned). The exact set of passing cases is pinned in conformance-pass.txt,
// so a regression (or an unexplained new pass) fails; every other case must be skipped for one of
// the stated reasons (a type outside float32/float64/int64/int32/int8/uint8/bool, a
// sequence/optional value, a random training-mode Dropout, BatchNormalization's training outputs)
// and none may fail. Pass/total per op (INDEX.md's op_type and group) is printed.
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES } from '../../helpers/reference.js';
import { runConformance, runConformanceCase, tally } from '../../../importers/onnx/conformance.js';
import { decodeTensor } from '../../../importers/onnx/decode.js';
import { encodeTensor } from '../../../importers/onnx/encode.js';

const ROOT = join(FIXTURES, 'onnx-node-tests');
const here = dirname(fileURLToPath(import.meta.url));
const EXPECTED = new Set(readFileSync(join(here, 'conformance-pass.txt'), 'utf8').split('\n').filter((l) => l !== ''));

/** INDEX.md: case -> { op, group } */
function index(): Map<string, { op: string; group: string }> {
  const m = new Map<string, { op: string; group: string }>();
  for (const line of readFileSync(join(ROOT, 'INDEX.md'), 'utf8').split('\n')) {
    const c = line.split('|').map((s) => s.trim());
    if (c.length > 8 && c[1]!.startsWith('test_')) m.set(c[1]!, { op: c[2]!, group: c[5]! });
  }
  return m;
}

const ALLOWED_SKIPS = [
  /type (FLOAT16|BFLOAT16|INT16|UINT16|UINT32|UINT64|INT4|UINT4|INT2|UINT2) is outside the supported set/,
  /UNSUPPORTED: (FLOAT8E4M3FN|FLOAT8E4M3FNUZ|FLOAT8E5M2|FLOAT8E5M2FNUZ|FLOAT8E8M0|FLOAT4E2M1|STRING)$/,
  /UNSUPPORTED: (SequenceProto|OptionalProto)$/,
  /Dropout in training mode \(random masks/,
  /BatchNormalization in training mode/,
];

describe('ONNX backend node tests: conformance', () => {
  const results = runConformance(ROOT);
  const idx = index();

  it('runs every case of the fixture folder', () => {
    expect(results.length).toBe(idx.size);
  });

  it('passes exactly the pinned set and fails none', () => {
    const failed = results.filter((r) => r.status === 'fail').map((r) => `${r.name}: ${r.reason}`);
    expect(failed).toEqual([]);
    const passed = new Set(results.filter((r) => r.status === 'pass').map((r) => r.name));
    expect([...EXPECTED].filter((n) => !passed.has(n)), 'regressions').toEqual([]);
    expect([...passed].filter((n) => !EXPECTED.has(n)), 'new passes: add them to conformance-pass.txt').toEqual([]);
    const per = tally(results, (r) => { const i = idx.get(r.name); return i === undefined ? '?' : `${i.op}${i.group === 'core' ? '' : ` (${i.group})`}`; });
    const lines = [...per].map(([op, t]) => `  ${op.padEnd(44)} ${t.pass}/${t.pass + t.fail} run, ${t.skip} skipped`);
    console.log(`conformance: ${passed.size} pass, ${failed.length} fail, ${results.length - passed.size - failed.length} skipped\n${lines.join('\n')}`);
  });

  it('skips only for the stated reasons, each listed', () => {
    const skipped = results.filter((r) => r.status === 'skip');
    const unexplained = skipped.filter((r) => !ALLOWED_SKIPS.some((re) => re.test(r.reason))).map((r) => `${r.name}: ${r.reason}`);
    expect(unexplained).toEqual([]);
    console.log(`skipped cases:\n${skipped.map((r) => `  ${r.name}: ${r.reason.replace(/^file [^,]*, /, '')}`).join('\n')}`);
  });

  it('every listed-op core case with supported types passes', () => {
    // the cases of the issue's op list whose inputs/outputs are all of the supported types
    const typeOk = /^(float32|float64|int8|uint8|int32|int64|bool)?$/;
    const lines = readFileSync(join(ROOT, 'INDEX.md'), 'utf8').split('\n').map((l) => l.split('|').map((s) => s.trim()));
    const eligible = lines.filter((c) => c.length > 8 && c[5] === 'core' && c[7] === '' &&
      c[6]!.split('->').flatMap((s) => s.split(',')).map((s) => s.trim()).every((t) => typeOk.test(t))).map((c) => c[1]!);
    const notPassing = eligible.filter((n) => !EXPECTED.has(n));
    // BatchNormalization's training mode (running-statistics outputs) is outside inference
    expect(notPassing.filter((n) => !/batchnorm_.*training_mode/.test(n))).toEqual([]);
  });

  it('reports a wrong result as a failure (the runner can fail)', () => {
    // test_relu with its expected output moved by 1e-2 (far outside rtol 1e-3 for |y| < 10)
    const dir = mkdtempSync(join(tmpdir(), 'edgenn-conf-'));
    try {
      cpSync(join(ROOT, 'test_relu'), join(dir, 'test_relu'), { recursive: true });
      const out = join(dir, 'test_relu', 'test_data_set_0', 'output_0.pb');
      const t = decodeTensor(readFileSync(out));
      const d = Float32Array.from(t.data as Float32Array, (v) => v + 1e-2);
      writeFileSync(out, encodeTensor({ ...t, data: d }));
      expect(runConformanceCase(join(ROOT, 'test_relu')).status).toBe('pass');
      const r = runConformanceCase(join(dir, 'test_relu'));
      expect(r.status).toBe('fail');
      expect(r.reason).toMatch(/elements differ/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
