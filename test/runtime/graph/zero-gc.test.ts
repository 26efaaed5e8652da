// Steady state allocates nothing: >= 5 000 training steps and >= 50 000 inferences of compiled
// models run while a PerformanceObserver records garbage-collection events; none may fall
// inside the timed window. Small allocations may not fill the young generation, so the test also
// reads V8's new-space usage before and after the window: with no GC in between, its growth is
// exactly what the loop allocated on the JS heap. Control loops that allocate (a 16-byte object
// per step; a typed array per step) must be caught, proving the detector sees them.
import { describe, it, expect } from 'vitest';
import { allocated, measureAllocation as measure, ALLOCATION_SLACK_BYTES } from '../../helpers/allocation.js';
import { sequential, type LayerSpec } from '../../../runtime/graph/sequential.js';
import { compile, type Model } from '../../../runtime/model.js';

const T: LayerSpec[] = [{ type: 'dense', out: 32 }, { type: 'tanh' }, { type: 'dense', out: 32 }, { type: 'tanh' }, { type: 'dense', out: 4 }];
const CONV: LayerSpec[] = [{ type: 'conv1d', out: 4, kernel: 3, padding: 1 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', out: 3 }];

function data(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
}

function trainLoop(m: Model, x: Float32Array, y: Int32Array, steps: number, probesEvery: number): void {
  for (let s = 0; s < steps; s++) m.trainStep(x, y, undefined, s % probesEvery === 0);
}

describe('zero allocation in steady state', () => {
  it.each(['wasm', 'js'] as const)('5 000 SGD/Adam training steps and 50 000 inferences cause no GC event (%s kernels)', async (kernels) => {
    const sgd = compile(sequential([16], T, { seed: 1 }), { maxBatch: 32, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9 }, probes: true, kernels });
    const adam = compile(sequential([1, 16], CONV, { seed: 2 }), { maxBatch: 16, loss: { kind: 'cross-entropy', labelSmoothing: 0.1 }, optimizer: { kind: 'adam', lr: 1e-3 }, kernels });
    const inf = compile(sequential([16], T, { seed: 3 }), { maxBatch: 1, kernels });
    const x = data(32 * 16, 1), y = Int32Array.from({ length: 32 }, (_, i) => i % 4);
    const xc = data(16 * 16, 2), yc = Int32Array.from({ length: 16 }, (_, i) => i % 3);
    const x1 = data(16, 3);
    // warm-up: JIT compilation allocates; steady state starts after it
    trainLoop(sgd, x, y, 200, 10); trainLoop(adam, xc, yc, 200, 10);
    for (let i = 0; i < 2000; i++) inf.run(x1);
    const w = await measure(() => {
      trainLoop(sgd, x, y, 3000, 100);
      trainLoop(adam, xc, yc, 2000, 100);
      for (let i = 0; i < 50_000; i++) { x1[0] = i; inf.run(x1); }
    });
    expect(w.gc).toBe(0);
    expect(w.heap).toBeLessThanOrEqual(ALLOCATION_SLACK_BYTES);
  });

  it('the detector catches one small object allocated per step (control)', async () => {
    const m = compile(sequential([16], T, { seed: 1 }), { maxBatch: 32, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.01 } });
    const x = data(32 * 16, 1), y = Int32Array.from({ length: 32 }, (_, i) => i % 4);
    const sink: { s: number }[] = [];
    const w = await measure(() => {
      for (let s = 0; s < 5000; s++) {
        m.trainStep(x, y);
        const junk = { s }; // the deliberate allocation
        if (s % 1000 === 0) sink.push(junk);
      }
    });
    expect(sink.length).toBe(20);
    expect(allocated(w)).toBe(true);
  });

  it('the detector catches a typed-array view made per inference (control)', async () => {
    const m = compile(sequential([16], T, { seed: 3 }), { maxBatch: 4 });
    const x = data(64, 1);
    let acc = 0;
    const w = await measure(() => {
      for (let i = 0; i < 50_000; i++) acc += m.run(x.subarray(0, 16))[0]!; // subarray allocates a view
    });
    expect(Number.isFinite(acc)).toBe(true);
    expect(allocated(w)).toBe(true);
  });
});
