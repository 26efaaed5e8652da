// Deterministic fuzzing of the decoder with a seeded PRNG:
//  - 4000 files mutated byte-wise from the fixture models (and 1000 from node-test .pb tensors):
//    truncations, bit flips, boundary bytes, insertions, deletions, duplicated ranges, splices
//    between files, varints blown up to 10 bytes;
//  - 1500 models mutated field-wise (decoded to protobuf messages, numbers/int64s/strings/arrays
//    set to boundary or foreign values, re-encoded) so that well-formed protobuf with absurd
//    contents reaches the semantic checks (limits, types, graph).
// Each decode must finish within PER_CASE_MS and either return a model / tensor or throw
// EdgennError; any other exception (TypeError, RangeError, ...) fails the test.
// Budget: ~20 s on a 2-core machine (it typically takes 2-4 s).
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REFERENCE_DIR } from '../../helpers/reference.js';
import { decodeModel, decodeTensor } from '../../../importers/onnx/decode.js';
import { EdgennError } from '../../../runtime/errors.js';
import { decodeModelProto, encodeModelProto } from '../../../importers/onnx/proto.js';
import { prng, mutateFields } from '../../helpers/fuzz.js';

const PER_CASE_MS = 500; // generous: a case takes well under 5 ms; a hang or blow-up takes far longer
const NODE = join(FIXTURES, 'onnx-node-tests');

function mutate(src: Uint8Array, other: Uint8Array, rnd: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  let b = Uint8Array.from(src);
  const steps = 1 + int(3);
  for (let s = 0; s < steps; s++) {
    const n = b.length;
    if (n === 0) break;
    switch (int(8)) {
      case 0: b = b.slice(0, int(n)); break;                                            // truncate
      case 1: for (let k = 1 + int(4); k > 0; k--) b[int(n)] ^= 1 << int(8); break;     // bit flips
      case 2: b[int(n)] = [0x00, 0x01, 0x7f, 0x80, 0xff][int(5)]!; break;               // boundary byte
      case 3: {                                                                           // insert random bytes
        const at = int(n + 1), ins = Array.from({ length: 1 + int(8) }, () => int(256));
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 4: { const at = int(n), len = 1 + int(16); b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + len)]); break; }
      case 5: { const at = int(n), len = 1 + int(64); b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at, at + len), ...b.subarray(at)]); break; }
      case 6: { const at = int(n), from = int(other.length), len = 1 + int(64); b = Uint8Array.from([...b.subarray(0, at), ...other.subarray(from, from + len), ...b.subarray(at)]); break; }
      case 7: { const at = int(n); b = Uint8Array.from([...b.subarray(0, at), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, ...b.subarray(at + 1)]); break; }
    }
  }
  return b;
}

interface Tally { ok: number; errors: Map<string, number>; others: string[]; slowest: number }

function run(cases: number, seed: number, sources: Uint8Array[], decode: (b: Uint8Array) => unknown): Tally {
  const rnd = prng(seed);
  const t: Tally = { ok: 0, errors: new Map(), others: [], slowest: 0 };
  for (let i = 0; i < cases; i++) {
    const src = sources[Math.floor(rnd() * sources.length)]!;
    const other = sources[Math.floor(rnd() * sources.length)]!;
    const bytes = mutate(src, other, rnd);
    const t0 = performance.now();
    try {
      decode(bytes);
      t.ok++;
    } catch (e) {
      if (e instanceof EdgennError) t.errors.set(e.code, (t.errors.get(e.code) ?? 0) + 1);
      else t.others.push(`case ${i} (seed ${seed}): ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    }
    t.slowest = Math.max(t.slowest, performance.now() - t0);
  }
  return t;
}

describe('fuzzed ONNX files', () => {
  const base = mkdtempSync(join(tmpdir(), 'edgenn-fuzz-')); // empty folder: external data resolves (and fails) here
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const models = [
    ...readdirSync(REFERENCE_DIR).filter((f) => f.endsWith('.onnx')).map((f) => join(REFERENCE_DIR, f)),
    ...['test_gemm_all_attributes', 'test_conv_with_strides_padding', 'test_cast_FLOAT_to_INT4', 'test_sce_mean_weight_expanded', 'test_constant']
      .map((c) => join(NODE, c, 'model.onnx')).filter((p) => existsSync(p)),
  ].map((p) => new Uint8Array(readFileSync(p)));
  const tensors = ['test_add_uint64', 'test_argmax_default_axis_random', 'test_cast_FLOAT16_to_FLOAT', 'test_cast_INT4_to_FLOAT', 'test_gemm_all_attributes']
    .flatMap((c) => { const d = join(NODE, c, 'test_data_set_0'); return existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : []; })
    .map((p) => new Uint8Array(readFileSync(p)));

  it('4000 mutated models: a model or an EdgennError, each within the time bound', () => {
    expect(models.length).toBeGreaterThan(15);
    const t = run(4000, 20240607, models, (b) => decodeModel(b, { baseDir: base }));
    console.log(`models: ${t.ok} decoded, errors ${JSON.stringify(Object.fromEntries(t.errors))}, slowest ${t.slowest.toFixed(1)} ms`);
    expect(t.others).toEqual([]);
    expect(t.slowest).toBeLessThan(PER_CASE_MS);
    // the mutations must exercise both outcomes, or the test proves nothing
    expect(t.ok).toBeGreaterThan(50);
    expect(t.errors.get('DECODE') ?? 0).toBeGreaterThan(500);
  });

  it('1000 mutated TensorProto files: a tensor or an EdgennError, each within the time bound', () => {
    expect(tensors.length).toBeGreaterThan(8);
    const t = run(1000, 7, tensors, (b) => decodeTensor(b, { baseDir: base }));
    console.log(`tensors: ${t.ok} decoded, errors ${JSON.stringify(Object.fromEntries(t.errors))}, slowest ${t.slowest.toFixed(1)} ms`);
    expect(t.others).toEqual([]);
    expect(t.slowest).toBeLessThan(PER_CASE_MS);
    expect(t.ok).toBeGreaterThan(10);
  });

  it('1500 field-mutated models: a model or an EdgennError, each within the time bound', () => {
    const rnd = prng(99);
    const int = (n: number) => Math.floor(rnd() * n);
    const names = ['x', 'y', '', 'W', 'bias', 'nope', 'XW'];
    const t: Tally = { ok: 0, errors: new Map(), others: [], slowest: 0 };
    for (let i = 0; i < 1500; i++) {
      const msg = decodeModelProto(models[int(models.length)]!).message;
      mutateFields(msg, rnd, (n) => [0, 1, -1, 2 ** 31, 2 ** 32 + 1, 17, 22, 99, 14, n(30)][n(10)]!, names,
        [0n, -1n, 3n, 2n ** 31n, 2n ** 53n, 2n ** 62n, 2n ** 63n - 1n]);
      let bytes: Uint8Array;
      try { bytes = encodeModelProto(msg); } catch { continue; } // protobufjs refused the mutated message
      const t0 = performance.now();
      try {
        decodeModel(bytes, { baseDir: base });
        t.ok++;
      } catch (e) {
        if (e instanceof EdgennError) t.errors.set(e.code, (t.errors.get(e.code) ?? 0) + 1);
        else t.others.push(`case ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      }
      t.slowest = Math.max(t.slowest, performance.now() - t0);
    }
    console.log(`field-mutated: ${t.ok} decoded, errors ${JSON.stringify(Object.fromEntries(t.errors))}, slowest ${t.slowest.toFixed(1)} ms`);
    expect(t.others).toEqual([]);
    expect(t.slowest).toBeLessThan(PER_CASE_MS);
    for (const code of ['LIMIT', 'GRAPH', 'DECODE', 'UNSUPPORTED']) expect(t.errors.get(code) ?? 0, code).toBeGreaterThan(5);
  });
});

