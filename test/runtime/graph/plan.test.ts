// The planner's promises: one arena within 10 % of the analytic lower bound; parameters,
// gradients and optimizer state as contiguous parallel blocks; activation memory reused;
// smaller batches on the same plan; an arena living inside a WebAssembly.Memory.
import { describe, it, expect } from 'vitest';
import { sequential, type LayerSpec } from '../../../runtime/graph/sequential.js';
import { compile } from '../../../runtime/model.js';
import { withoutParamData } from '../../../runtime/graph/graph.js';
import { EdgennError } from '../../../runtime/errors.js';

// @types/node 18 declares WebAssembly's types but not its global value
const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

const mlp = (sizes: number[], act: 'relu' | 'tanh'): LayerSpec[] =>
  sizes.slice(1).flatMap((o, i): LayerSpec[] => (i < sizes.length - 2 ? [{ type: 'dense', out: o }, { type: act }] : [{ type: 'dense', out: o }]));

const models: [string, number[], LayerSpec[]][] = [
  ['T 16-32-32-4 tanh', [16], mlp([16, 32, 32, 4], 'tanh')],
  ['S 784-128-10 relu', [784], mlp([784, 128, 10], 'relu')],
  ['M 784-256-128-10 relu', [784], mlp([784, 256, 128, 10], 'relu')],
  ['conv 1x64 -> conv(8,k5) -> relu -> conv(8,k3) -> flatten -> dense 10', [1, 64],
    [{ type: 'conv1d', out: 8, kernel: 5, padding: 2 }, { type: 'relu' }, { type: 'conv1d', out: 8, kernel: 3, stride: 2 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', out: 10 }]],
];

describe('arena plan', () => {
  for (const [name, dims, layers] of models) {
    for (const opt of ['sgd', 'adam'] as const) {
      it(`${name}, training with ${opt}, batch 32: within 10 % of the lower bound`, () => {
        const m = compile(sequential(dims, layers), { maxBatch: 32, loss: { kind: 'cross-entropy' },
          optimizer: opt === 'sgd' ? { kind: 'sgd', lr: 0.1, momentum: 0.9 } : { kind: 'adam', lr: 1e-3 } });
        const r = m.report;
        expect(r.totalBytes).toBeLessThanOrEqual(1.1 * r.lowerBoundBytes);
        expect(r.gradsBytes).toBe(r.paramsBytes);
        expect(r.optimizerStateBytes).toBe((opt === 'sgd' ? 1 : 2) * r.paramsBytes);
        // blocks are contiguous and parallel: grads right after params, state right after grads
        const p = m.plan.paramBlock, g = m.plan.gradBlock, s = m.plan.stateBlock;
        expect(g.at).toBe(p.at + p.floats);
        expect(s.at).toBe(g.at + g.floats);
      });
    }
    it(`${name}, inference only: smaller than training and reuses activation memory`, () => {
      const inf = compile(sequential(dims, layers), { maxBatch: 32 });
      const tr = compile(sequential(dims, layers), { maxBatch: 32, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.1 } });
      expect(inf.report.totalBytes).toBeLessThan(tr.report.totalBytes);
      expect(inf.report.gradsBytes).toBe(0);
      expect(inf.report.totalBytes).toBeLessThanOrEqual(1.1 * inf.report.lowerBoundBytes);
    });
  }

  it('reuses memory: activations of a deep chain do not all coexist at inference', () => {
    const layers: LayerSpec[] = [];
    for (let i = 0; i < 10; i++) layers.push({ type: 'dense', out: 64 }, { type: 'relu' });
    const m = compile(sequential([64], layers), { maxBatch: 8 });
    // 20 activations of 8x64 floats = 40 KiB if none were reused; the pool needs ~2 live at once
    expect(m.report.activationsBytes).toBeLessThanOrEqual(3 * 8 * 64 * 4);
  });

  it('runs a smaller batch on the same plan with the same results per row', () => {
    const m = compile(sequential([5], mlp([5, 7, 3], 'tanh'), { seed: 3 }), { maxBatch: 8 });
    const x = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
    const full = m.run(x).slice(0, 24);
    for (let b = 1; b <= 8; b++) {
      const y = m.run(x.subarray(0, 5 * b));
      expect(Array.from(y.subarray(0, 3 * b))).toEqual(Array.from(full.subarray(0, 3 * b)));
    }
    expect(() => m.run(new Float32Array(45))).toThrow(EdgennError);
    expect(() => m.run(new Float32Array(7))).toThrow(/whole batch/);
  });

  it('lives inside a WebAssembly.Memory without changing results', () => {
    const graph = sequential([4], mlp([4, 6, 2], 'relu'), { seed: 5 });
    const plain = compile(graph, { maxBatch: 2, kernels: 'js' });
    const mem = new WA.Memory({ initial: 1 });
    const wasm = compile(graph, { maxBatch: 2, backing: { buffer: mem.buffer, base: 1024 } });
    expect(wasm.plan.arena.buffer).toBe(mem.buffer);
    const x = Float32Array.of(1, -2, 3, 0.5, -1, 0, 2, 4);
    expect(Array.from(wasm.run(x))).toEqual(Array.from(plain.run(x)));
  });

  it("with kernels 'wasm' the arena is the kernels' WebAssembly.Memory", () => {
    const graph = sequential([4], mlp([4, 6, 2], 'relu'), { seed: 5 });
    const m = compile(graph, { maxBatch: 2, kernels: 'wasm' });
    expect(m.kernels).not.toBeNull();
    expect(m.plan.arena.buffer).toBe(m.kernels!.buffer);
    const js = compile(graph, { maxBatch: 2, kernels: 'js' });
    expect(js.kernels).toBeNull();
    const x = Float32Array.of(1, -2, 3, 0.5, -1, 0, 2, 4);
    // different summation order: float32 rounding of the same sums
    const a = Array.from(m.run(x)), b = Array.from(js.run(x));
    a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(b[i]!)));
    expect(() => compile(graph, { maxBatch: 2, kernels: 'wasm', backing: { buffer: new ArrayBuffer(1 << 16), base: 0 } })).toThrow(/do not also give a backing/);
  });

  it('refuses an arena that does not fit its backing buffer', () => {
    const graph = sequential([784], mlp([784, 256, 10], 'relu'));
    const mem = new WA.Memory({ initial: 1 });
    expect(() => compile(graph, { maxBatch: 64, backing: { buffer: mem.buffer, base: 0 } })).toThrow(/smaller than the arena/);
  });
});

describe('withoutParamData', () => {
  it('drops the parameters\' data only: a compile of it holds zeros there, the original graph is unchanged', () => {
    const g = sequential([5], [{ type: 'dense', out: 4 }, { type: 'relu' }, { type: 'dense', out: 2 }], { seed: 3 });
    const bare = withoutParamData(g);
    const full = compile(g, { maxBatch: 2 });
    const empty = compile(bare, { maxBatch: 2 });
    expect(empty.paramNames()).toEqual(full.paramNames());
    for (const name of full.paramNames()) {
      expect(full.param(name).some((v) => v !== 0)).toBe(true);
      expect(empty.param(name).every((v) => v === 0)).toBe(true);
      empty.param(name).set(full.param(name));
    }
    const x = Float32Array.from({ length: 10 }, (_, i) => Math.sin(i));
    expect(Array.from(empty.run(x, 2))).toEqual(Array.from(full.run(x, 2)));
    expect(g.values.filter((v) => v.role === 'param').every((v) => v.init !== null)).toBe(true);
    expect(bare.nodes).toBe(g.nodes);
    const tr = compile(bare, { maxBatch: 2, loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } });
    expect(tr.paramNames()).toEqual(full.paramNames());
  });
});
