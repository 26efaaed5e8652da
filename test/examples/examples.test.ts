// Runs every example program in examples/ (the README quotes them) through its exported main()
// and checks it does what its header says.
// Tolerances: learning checks are thresholds on the examples' own goals (XOR outputs on the right
// side of 0.5, y = 2x + 1 recovered within 0.05 after 500 SGD steps — the fit converges
// geometrically, the residual is ~1e-4); checkpoint and JSON round trips are exact (bit-identical).
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as xor from '../../examples/xor-backprop.js';
import * as perceptron from '../../examples/perceptron.js';
import * as builder from '../../examples/graph-builder.js';
import * as fitCk from '../../examples/fit-and-checkpoint.js';
import * as json from '../../examples/json-model.js';
import * as qat from '../../examples/qat.js';

const quiet = (): void => undefined;

/** Runs an example (no timing assertion: performance claims come from benchmarks). */
function timed<T>(f: () => T): T {
  return f();
}

describe('examples', () => {
  test('every examples/*.ts file is covered here', () => {
    const files = readdirSync('examples').filter((f) => f.endsWith('.ts')).sort();
    expect(files).toEqual(['fit-and-checkpoint.ts', 'graph-builder.ts', 'json-model.ts', 'perceptron.ts', 'qat.ts', 'xor-backprop.ts']);
  });
  test('xor-backprop: learns XOR', () => {
    const r = timed(() => xor.main(quiet));
    expect(r.outputs.map((v) => (v > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
    expect(r.loss).toBeLessThan(0.02);
  });
  test('perceptron: AND and OR converge, XOR does not', () => {
    expect(timed(() => perceptron.main(quiet))).toEqual({ AND: true, OR: true, XOR: false });
  });
  test('graph-builder: softmax rows, arena report', () => {
    const lines: string[] = [];
    const r = timed(() => builder.main((s) => lines.push(s)));
    expect(r.outputs.length).toBe(6);
    expect(Math.abs(r.outputs.slice(0, 3).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6); // float32 sum of 3
    expect(r.arenaBytes).toBeGreaterThan(0);
    expect(lines[1]).toMatch(/^arena: \d+ bytes/);
  });
  test('fit-and-checkpoint: learns the rings, reload is bit-identical', () => {
    const r = timed(() => fitCk.main(quiet));
    expect(r.valAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(r.identical).toBe(true);
  });
  test('qat: post-training quantization loses accuracy, QAT recovers it; int8 weights ~4x smaller', () => {
    // thresholds on the example's claim (measured: float32 0.878, PTQ 0.796, QAT 0.873 on 1000
    // test rows); margins of 4 points absorb kernel summation-order differences (wasm vs js)
    const r = timed(() => qat.main(quiet));
    expect(r.float32).toBeGreaterThan(0.85);
    expect(r.ptq).toBeLessThan(r.float32 - 0.04);
    expect(r.qat).toBeGreaterThan(r.ptq + 0.04);
    expect(r.bytes.float32 / r.bytes.int8).toBeGreaterThan(3.5);
    expect(r.bytes.arenaInt8).toBeLessThan(r.bytes.arenaFloat32);
  });
  test('json-model: learns y = 2x + 1, JSON round trip exact', () => {
    const r = timed(() => json.main(quiet));
    expect(Math.abs(r.weight - 2)).toBeLessThan(0.05);
    expect(Math.abs(r.bias - 1)).toBeLessThan(0.05);
    expect(r.roundTrip).toBe(true);
  });
});
