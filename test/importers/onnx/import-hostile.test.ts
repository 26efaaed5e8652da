// Hostile input at import: contradictions and absurd sizes in otherwise well-formed models end in
// an EdgennError naming the node or tensor (never a crash, a hang or an unbounded allocation), and
// a fuzz run pushes mutated fixture models (byte-wise and field-wise, seeded) through the whole
// importer and the planner: each must give a compiled model or an EdgennError within the time
// bound. (fuzz.test.ts does the same for the decoder alone.)
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REFERENCE_DIR } from '../../helpers/reference.js';
import { onnxModel, onnxNode, tensorF, tensorI64 } from './onnx-helpers.js';
import { importOnnx } from '../../../importers/onnx/import.js';
import { OnnxDataType } from '../../../importers/onnx/model.js';
import { decodeModelProto, encodeModelProto } from '../../../importers/onnx/proto.js';
import { prng, mutateFields } from '../../helpers/fuzz.js';
import { EdgennError, type ErrorCode } from '../../../runtime/errors.js';
import { compile } from '../../../runtime/model.js';

function expectError(f: () => unknown, code: ErrorCode, ...mentions: string[]): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EdgennError);
    expect((e as EdgennError).code, (e as Error).message).toBe(code);
    for (const m of mentions) expect((e as Error).message).toContain(m);
    return;
  }
  expect.unreachable('no error');
}

const gemm = (wDims: number[]) => onnxModel({
  nodes: [onnxNode('Gemm', ['x', 'W', 'b'], ['y'], { transB: 1 }, 'fc1')],
  inputs: [{ name: 'x', shape: ['batch', 4] }], outputs: [{ name: 'y' }],
  initializers: [tensorF('W', wDims, new Array(wDims.reduce((p, q) => p * q, 1)).fill(0.5)), tensorF('b', [wDims[0]!], new Array(wDims[0]!).fill(0))],
});

describe('hostile models at import', () => {
  it('a shape contradiction names the node', () => {
    expectError(() => importOnnx(gemm([5, 3])), 'SHAPE', 'fc1');
    expect(() => importOnnx(gemm([5, 4]))).not.toThrow();
  });
  it('a missing initializer / dangling input names the tensor', () => {
    const m = onnxModel({ nodes: [onnxNode('MatMul', ['x', 'W'], ['y'], {}, 'mm')], inputs: [{ name: 'x', shape: [2, 3] }], outputs: [{ name: 'y' }] });
    expectError(() => importOnnx(m), 'GRAPH', 'W', 'mm');
  });
  it('an int64 beyond int32 is refused naming the tensor', () => {
    const m = onnxModel({ nodes: [onnxNode('Reshape', ['x', 'big'], ['y'])], inputs: [{ name: 'x', shape: [2, 3] }], outputs: [{ name: 'y' }],
      initializers: [tensorI64('big', [2], [2 ** 40, 1])] });
    expectError(() => importOnnx(m), 'UNSUPPORTED', 'big', 'int32');
  });
  it('absurd sizes: a huge ConstantOfShape, a huge input, a huge reshape target', () => {
    const cos = onnxModel({ nodes: [onnxNode('ConstantOfShape', ['s'], ['c'], {}, 'cos'), onnxNode('Add', ['x', 'c'], ['y'])],
      inputs: [{ name: 'x', shape: [1] }], outputs: [{ name: 'y' }], initializers: [tensorI64('s', [3], [100000, 100000, 1000])] });
    expectError(() => importOnnx(cos), 'LIMIT', 'cos');
    const big = onnxModel({ nodes: [onnxNode('Relu', ['x'], ['y'])], inputs: [{ name: 'x', shape: ['batch', 2 ** 30, 64] }], outputs: [{ name: 'y' }] });
    expectError(() => importOnnx(big), 'LIMIT', 'x');
    // fits the import limits but not one arena at this batch size
    const wide = onnxModel({ nodes: [onnxNode('Relu', ['x'], ['y'])], inputs: [{ name: 'x', shape: ['batch', 2 ** 24] }], outputs: [{ name: 'y' }] });
    expectError(() => compile(importOnnx(wide).graph, { maxBatch: 64 }), 'LIMIT');
  });
  it('a constant gather index out of range names the node and tensor', () => {
    const m = onnxModel({ nodes: [onnxNode('Gather', ['x', 'i'], ['y'], { axis: 1 }, 'g')], inputs: [{ name: 'x', shape: ['batch', 3] }], outputs: [{ name: 'y' }],
      initializers: [tensorI64('i', [2], [0, 3])] });
    expectError(() => importOnnx(m), 'DATA', 'g', 'i');
  });
  it('a symbolic dim other than the first is refused naming the input', () => {
    const m = onnxModel({ nodes: [onnxNode('Relu', ['x'], ['y'])], inputs: [{ name: 'x', shape: ['batch', 'seq'] }], outputs: [{ name: 'y' }] });
    expectError(() => importOnnx(m), 'UNSUPPORTED', 'x', 'axis 1');
  });
  it('Conv kernel_shape contradicting the weight, Concat of mismatched dims', () => {
    const conv = onnxModel({ nodes: [onnxNode('Conv', ['x', 'w'], ['y'], { kernel_shape: [5] }, 'c1')], inputs: [{ name: 'x', shape: ['batch', 1, 8] }], outputs: [{ name: 'y' }],
      initializers: [tensorF('w', [2, 1, 3], new Array(6).fill(1))] });
    expectError(() => importOnnx(conv), 'SHAPE', 'c1');
    const cat = onnxModel({ nodes: [onnxNode('Concat', ['a', 'b'], ['y'], { axis: 1 }, 'cat')], inputs: [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [3, 3] }], outputs: [{ name: 'y' }] });
    expectError(() => importOnnx(cat), 'SHAPE', 'cat');
  });
  it('an unsupported graph input type or a bound name that is no input', () => {
    const m = onnxModel({ nodes: [onnxNode('Relu', ['x'], ['y'])], inputs: [{ name: 'x', shape: [2], elem: OnnxDataType.FLOAT16 }], outputs: [{ name: 'y' }] });
    expectError(() => importOnnx(m), 'UNSUPPORTED', 'x', 'FLOAT16');
    const ok = onnxModel({ nodes: [onnxNode('Relu', ['x'], ['y'])], inputs: [{ name: 'x', shape: [2] }], outputs: [{ name: 'y' }] });
    expectError(() => importOnnx(ok, { bind: new Map([['nope', tensorF('nope', [1], [1])]]) }), 'ARG', 'nope');
  });
});

const PER_CASE_MS = 1000; // import + plan of these small models takes a few ms; a hang takes far longer
const LIMITS = { maxTensorBytes: 16 * 1024 * 1024, maxTotalBytes: 64 * 1024 * 1024 };

describe('fuzzed models through the importer and planner', () => {
  const NODE = join(FIXTURES, 'onnx-node-tests');
  const sources = [
    ...readdirSync(REFERENCE_DIR).filter((f) => f.endsWith('.onnx')).map((f) => join(REFERENCE_DIR, f)),
    ...['test_gemm_all_attributes', 'test_conv_with_strides_padding', 'test_sce_mean_weight_expanded', 'test_reshape_negative_dim',
      'test_unsqueeze_two_axes', 'test_batchnorm_example', 'test_where_example', 'test_gather_2d_indices', 'test_reduce_sum_keepdims_random']
      .map((c) => join(NODE, c, 'model.onnx')).filter((p) => existsSync(p)),
  ].map((p) => new Uint8Array(readFileSync(p)));

  const attempt = (bytes: Uint8Array, t: { ok: number; errors: Map<string, number>; others: string[]; slowest: number }, label: string): void => {
    const t0 = performance.now();
    try {
      const im = importOnnx(bytes, LIMITS);
      compile(im.graph, { maxBatch: 2 });
      t.ok++;
    } catch (e) {
      if (e instanceof EdgennError) t.errors.set(e.code, (t.errors.get(e.code) ?? 0) + 1);
      else t.others.push(`${label}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    }
    t.slowest = Math.max(t.slowest, performance.now() - t0);
  };

  it('2000 byte-mutated models: a compiled model or an EdgennError within the bound', () => {
    expect(sources.length).toBeGreaterThan(20);
    const rnd = prng(31337);
    const int = (n: number) => Math.floor(rnd() * n);
    const t = { ok: 0, errors: new Map<string, number>(), others: [] as string[], slowest: 0 };
    for (let i = 0; i < 2000; i++) {
      let b = Uint8Array.from(sources[int(sources.length)]!);
      for (let s = 1 + int(3); s > 0 && b.length > 0; s--) {
        const n = b.length;
        switch (int(4)) {
          case 0: b = b.slice(0, int(n)); break;
          case 1: for (let k = 1 + int(4); k > 0; k--) b[int(n)] ^= 1 << int(8); break;
          case 2: b[int(n)] = [0x00, 0x01, 0x7f, 0x80, 0xff][int(5)]!; break;
          case 3: { const at = int(n), len = 1 + int(16); b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + len)]); break; }
        }
      }
      attempt(b, t, `byte case ${i}`);
    }
    console.log(`import fuzz (bytes): ${t.ok} compiled, errors ${JSON.stringify(Object.fromEntries(t.errors))}, slowest ${t.slowest.toFixed(1)} ms`);
    expect(t.others).toEqual([]);
    expect(t.slowest).toBeLessThan(PER_CASE_MS);
    expect(t.ok).toBeGreaterThan(50);
  });

  it('1000 field-mutated models (well-formed protobuf, absurd contents): a compiled model or an EdgennError', () => {
    const rnd = prng(4242);
    const int = (n: number) => Math.floor(rnd() * n);
    const names = ['x', 'y', '', 'W', 'input', 'output', '0.weight'];
    const t = { ok: 0, errors: new Map<string, number>(), others: [] as string[], slowest: 0 };
    for (let i = 0; i < 1000; i++) {
      const msg = decodeModelProto(sources[int(sources.length)]!).message;
      mutateFields(msg, rnd, (n) => [0, 1, -1, 2, 3, 7, 13, 2 ** 20, 2 ** 31, 99][n(10)]!, names,
        [0n, -1n, 1n, 3n, 1000000n, 2n ** 31n, 2n ** 40n]);
      let bytes: Uint8Array;
      try { bytes = encodeModelProto(msg); } catch { continue; }
      attempt(bytes, t, `field case ${i}`);
    }
    console.log(`import fuzz (fields): ${t.ok} compiled, errors ${JSON.stringify(Object.fromEntries(t.errors))}, slowest ${t.slowest.toFixed(1)} ms`);
    expect(t.others).toEqual([]);
    expect(t.slowest).toBeLessThan(PER_CASE_MS);
    expect(t.ok).toBeGreaterThan(50);
    for (const code of ['SHAPE', 'GRAPH']) expect(t.errors.get(code) ?? 0, code).toBeGreaterThan(5);
  });
});

