// The JSON model format (importers/json-model.ts): parsing with validation that names the layer
// index and key, spec -> graph (explicit weights or the seeded default init), and the way back
// (modelToJson + stringifyJsonModel) reproducing every float32 weight bit for bit.
// Tolerance: exact — weights are float32 values compared with ===; the format promises a
// bit-exact round trip.
import { describe, expect, test } from 'vitest';
import {
  f32Shortest, jsonModelGraph, modelToJson, parseJsonModel, stringifyJsonModel,
} from '../../../importers/json-model.js';
import { sequential } from '../../../runtime/graph/sequential.js';
import { compile } from '../../../runtime/model.js';
import { EdgennError } from '../../../runtime/errors.js';
import { Rng } from '../../../runtime/random.js';

const base = { format: 'edgenn-model', version: 1, input: { name: 'input', dims: [2] }, seed: 0 };
const text = (layers: unknown[], extra: Record<string, unknown> = {}): string => JSON.stringify({ ...base, layers, ...extra });

function err(f: () => unknown): EdgennError {
  try { f(); } catch (e) {
    expect(e).toBeInstanceOf(EdgennError);
    return e as EdgennError;
  }
  throw new Error('expected an EdgennError');
}

describe('parseJsonModel', () => {
  test('explicit weights land in the graph in PyTorch layout', () => {
    const spec = parseJsonModel(text([
      { type: 'dense', out: 2, weight: [1, 2, 3, 4], biasData: [0.5, -0.5] }, { type: 'relu' }, { type: 'dense', out: 1, bias: false, weight: [1, -1] },
    ]), 'm.json');
    const model = compile(jsonModelGraph(spec), { maxBatch: 1 });
    expect(Array.from(model.param('0.weight'))).toEqual([1, 2, 3, 4]);
    expect(Array.from(model.param('0.bias'))).toEqual([0.5, -0.5]);
    expect(model.paramNames()).toEqual(['0.weight', '0.bias', '2.weight']);
    // y = [1,2;3,4] [1,1] + b = [3.5, 6.5] -> relu -> 3.5 - 6.5 = -3
    expect(Array.from(model.run([1, 1], 1))).toEqual([-3]);
  });
  test('absent weights: the seeded init of sequential() with the same seed', () => {
    const layers = [{ type: 'dense' as const, out: 3 }, { type: 'tanh' as const }, { type: 'dense' as const, out: 2 }];
    const spec = parseJsonModel(JSON.stringify({ ...base, seed: 7, layers }));
    const a = compile(jsonModelGraph(spec), { maxBatch: 1 });
    const b = compile(sequential([2], layers, { seed: 7 }), { maxBatch: 1 });
    for (const n of a.paramNames()) expect(Array.from(a.param(n))).toEqual(Array.from(b.param(n)));
  });
  test('conv1d: weight [out, C, K]; flatten then dense', () => {
    const spec = parseJsonModel(JSON.stringify({ ...base, input: { name: 'x', dims: [2, 5] }, layers: [
      { type: 'conv1d', out: 3, kernel: 2, stride: 1, padding: 1, weight: new Array(12).fill(0.25) }, { type: 'flatten' }, { type: 'dense', out: 1 },
    ] }));
    const g = jsonModelGraph(spec);
    const m = compile(g, { maxBatch: 2 });
    expect(m.paramShape('0.weight')).toEqual([3, 2, 2]);
    expect(m.paramShape('2.weight')).toEqual([1, 18]); // conv out [3, 6] flattened
  });
  test.each([
    [{ ...base, extra: 1, layers: [{ type: 'relu' }] }, /model: unknown key "extra"/],
    [{ ...base, format: 'onnx', layers: [{ type: 'relu' }] }, /format: not an edgenn JSON model/],
    [{ ...base, version: 2, layers: [{ type: 'relu' }] }, /version: unsupported version; expected 1, got number 2/],
    [{ ...base, input: { dims: [0] }, layers: [{ type: 'relu' }] }, /input\.dims\[0\]/],
    [{ ...base, layers: [] }, /layers: bad value/],
    [{ ...base, layers: [{ type: 'relu' }, { type: 'dense', out: 2, wieght: [] }] }, /layers\[1\]: unknown key "wieght"/],
    [{ ...base, layers: [{ type: 'dense', out: '4' }] }, /layers\[0\]\.out: bad value; expected an integer >= 1, got the string "4"/],
    [{ ...base, layers: [{ type: 'dense', out: 2, weight: [1, 2, 3] }] }, /layers\[0\]\.weight: wrong number of values; expected 4 numbers \(\[2, 2\]/],
    [{ ...base, layers: [{ type: 'dense', out: 1, weight: [1, 'x'] }] }, /layers\[0\]\.weight\[1\]: bad value; expected a finite number/],
    [{ ...base, layers: [{ type: 'dense', out: 1, weight: [1, 1e39] }] }, /layers\[0\]\.weight\[1\]: value overflows float32/],
    [{ ...base, layers: [{ type: 'dense', out: 1, biasData: [1, 2] }] }, /layers\[0\]\.biasData: wrong number of values; expected 1 numbers/],
    [{ ...base, layers: [{ type: 'dense', out: 1, bias: false, biasData: [1] }] }, /layers\[0\]\.biasData: given while "bias" is false/],
    [{ ...base, layers: [{ type: 'maxpool' }] }, /layers\[0\]\.type: unknown layer type; expected one of dense, conv1d/],
    [{ ...base, layers: [{ type: 'conv1d', out: 1, kernel: 2 }] }, /layers\[0\]: conv1d needs a \[B, C, L\] input; expected \[B, C, L\], got \[B, 2\]/],
    [{ ...base, input: { dims: [2, 3] }, layers: [{ type: 'dense', out: 1 }] }, /layers\[0\]: dense needs a \[B, I\] input; add a \{"type": "flatten"\}/],
    [{ ...base, layers: [{ type: 'softmax', axis: 1 }] }, /layers\[0\]\.axis: bad value/],
    [{ ...base, layers: [{ type: 'softplus', beta: 0 }] }, /layers\[0\]\.beta: bad value; expected a number > 0/],
  ])('refuses %j', (model, re) => {
    const e = err(() => parseJsonModel(JSON.stringify(model), 'bad.json'));
    expect(e.message).toMatch(re);
    expect(e.message).toContain('file bad.json');
  });
  test('bad JSON is a DECODE error naming the file', () => {
    const e = err(() => parseJsonModel('{"format": ', 'broken.json'));
    expect(e.code).toBe('DECODE');
    expect(e.message).toContain('file broken.json: not valid JSON');
  });
});

describe('modelToJson / stringifyJsonModel', () => {
  test('round trip is bit-exact for every float32 weight (incl. -0 and tiny values)', () => {
    const spec = parseJsonModel(text([{ type: 'dense', out: 8 }, { type: 'sigmoid' }, { type: 'dense', out: 3 }]));
    const m = compile(jsonModelGraph(spec), { maxBatch: 1 });
    const rng = new Rng(3);
    const w = m.param('0.weight');
    for (let i = 0; i < w.length; i++) w[i] = (rng.next() - 0.5) * Math.pow(10, rng.int(20) - 10);
    w[0] = -0; w[1] = 1.4e-45; w[2] = 3.4028234663852886e38;
    const again = parseJsonModel(stringifyJsonModel(modelToJson(m, spec)));
    const m2 = compile(jsonModelGraph(again), { maxBatch: 1 });
    for (const n of m.paramNames()) {
      const a = m.param(n), b = m2.param(n);
      for (let i = 0; i < a.length; i++) expect(Object.is(a[i], b[i])).toBe(true);
    }
    expect(again.layers[1]).toEqual({ type: 'sigmoid' });
  });
  test('f32Shortest prints the shortest decimal that reads back as the same float32', () => {
    expect(f32Shortest(Math.fround(0.1))).toBe(0.1);
    expect(f32Shortest(Math.fround(1 / 3))).toBe(0.33333334);
    expect(f32Shortest(2)).toBe(2);
    const rng = new Rng(11);
    for (let i = 0; i < 2000; i++) {
      const v = Math.fround((rng.next() - 0.5) * Math.pow(2, rng.int(60) - 30));
      expect(Math.fround(f32Shortest(v))).toBe(v);
    }
  });
});
