// `edgenn run`: the output format {"outputs": {NAME: {"dims", "data"}}}, values equal to the
// library's Model.run, inputs by position or by name, CSV / npy / JSON inputs, chunked runs
// (--max-batch) giving the same numbers. Tolerance: exact — the same float32 weights and kernels
// run in both paths and run prints each float32 in a decimal that reads back to the same float32.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeNpy } from '../../../importers/data/index.js';
import { jsonModelGraph, parseJsonModel } from '../../../importers/json-model.js';
import { compile } from '../../../runtime/model.js';
import { cli, csv, modelJson, tempDir, threeClassRows } from './support.js';

const t = tempDir('edgenn-run-');
const N = 10;
const { x } = threeClassRows(N);

interface Out { outputs: Record<string, { dims: number[]; data: (number | string)[] }> }

beforeAll(() => {
  t.write('m.json', modelJson([2], [{ type: 'dense', out: 5 }, { type: 'sigmoid' }, { type: 'dense', out: 3 }, { type: 'softmax' }]));
  t.write('conv.json', JSON.stringify({ format: 'edgenn-model', version: 1, input: { name: 'signal', dims: [1, 4] }, seed: 3,
    layers: [{ type: 'conv1d', out: 2, kernel: 2 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', out: 1 }] }));
  t.write('x.csv', csv(['a', 'b', 'label'], x.map((r) => [...r, 0])));
  t.write('x.npy', encodeNpy([N, 2], Float32Array.from(x.flat())));
  t.write('x.json', JSON.stringify(x));
  t.write('sig.npy', encodeNpy([3, 1, 4], Float32Array.from({ length: 12 }, (_, i) => i / 4 - 1)));
  t.write('sig.csv', csv(['s0', 's1', 's2', 's3'], [[-1, -0.75, -0.5, -0.25], [0, 0.25, 0.5, 0.75], [1, 1.25, 1.5, 1.75]]));
});
afterAll(() => t.cleanup());

function reference(modelFile: string, data: number[], n: number): number[] {
  const m = compile(jsonModelGraph(parseJsonModel(t.read(modelFile))), { maxBatch: n });
  const y = m.run(Float32Array.from(data), n);
  return Array.from(y.subarray(0, (y.length / m.maxBatch) * n));
}

describe('edgenn run', () => {
  test('prints {"outputs": {NAME: {"dims": [N, ...], "data": [...]}}} equal to Model.run', async () => {
    const r = await cli(['run', 'm.json', 'x.csv'], t.dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const o = JSON.parse(r.stdout) as Out;
    const names = Object.keys(o.outputs);
    expect(names.length).toBe(1);
    const out = o.outputs[names[0]!]!;
    expect(out.dims).toEqual([N, 3]);
    expect(out.data.map((v) => Math.fround(v as number))).toEqual(reference('m.json', x.flat(), N));
    for (let i = 0; i < N; i++) {
      const s = (out.data.slice(3 * i, 3 * i + 3) as number[]).reduce((p, q) => p + q, 0);
      expect(Math.abs(s - 1)).toBeLessThan(1e-6); // softmax rows: float32 rounding of 3 terms
    }
  });

  test('the same numbers from CSV, npy, JSON, by position, by name, and in chunks', async () => {
    const runs = await Promise.all([
      cli(['run', 'm.json', 'x.npy'], t.dir),
      cli(['run', 'm.json', '--input', 'x.json'], t.dir),
      cli(['run', 'm.json', '--input', 'input=x.csv'], t.dir),
      cli(['run', 'm.json', 'x.npy', '--max-batch', '3'], t.dir),
    ]);
    const first = (await cli(['run', 'm.json', 'x.csv'], t.dir)).stdout;
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(first);
    }
  });

  test('conv1d model: [N, C, L] npy and flattened [N, C*L] CSV rows', async () => {
    const a = await cli(['run', 'conv.json', 'sig.npy'], t.dir);
    const b = await cli(['run', 'conv.json', 'sig.csv'], t.dir);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const o = Object.values((JSON.parse(a.stdout) as Out).outputs)[0]!;
    expect(o.dims).toEqual([3, 1]);
    expect(o.data.map((v) => Math.fround(v as number))).toEqual(reference('conv.json', Array.from({ length: 12 }, (_, i) => i / 4 - 1), 3));
  });

  test('--help', async () => {
    const r = await cli(['run', '--help'], t.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: edgenn run <model> [--input NAME=FILE | FILE]...');
  });
});
