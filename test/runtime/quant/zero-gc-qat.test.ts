// A QAT training step allocates nothing: fake-quant sites (observer state, qparams and the QAT
// control block in the arena, the schedule read from it) inside 3 000 training steps and 20 000
// inferences of one compiled model, with the observers frozen half-way through by the schedule
// (freezeObserverAt) so both branches run. Same detector as test/runtime/graph/zero-gc.test.ts:
// GC events inside the timed window and V8 new-space growth beyond 8 KiB, the cleanest of three
// windows as the verdict; a control loop that allocates must be caught.
// NOTE: one model per test file (= per process), as on a device: see
// test/importers/onnx/zero-gc-imported.test.ts for why.
import { describe, it, expect } from 'vitest';
import { allocated, measureAllocation as measure } from '../../helpers/allocation.js';
import { sequential } from '../../../runtime/graph/sequential.js';
import { compile } from '../../../runtime/model.js';
import { prepareQat, qatMode } from '../../../runtime/quant/qat.js';


describe('zero allocation in QAT steady state', () => {
  const g = prepareQat(sequential([12], [{ type: 'dense', out: 24 }, { type: 'relu' }, { type: 'dense', out: 16 }, { type: 'tanh' }, { type: 'dense', out: 3 }], { seed: 4 }),
    { freezeObserverAt: 7000, weights: { perChannel: true } });
  const m = compile(g, { maxBatch: 16, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 1e-3 } });
  const x = Float32Array.from({ length: 16 * 12 }, (_, i) => Math.sin(i * 0.37)), y = Int32Array.from({ length: 16 }, (_, i) => i % 3);
  const x1 = x.slice(0, 12);

  it('3 000 QAT steps and 20 000 inferences cause no GC event', async () => {
    for (let s = 0; s < 300; s++) m.trainStep(x, y);
    for (let i = 0; i < 2000; i++) m.run(x1);
    const w = await measure(() => {
      for (let s = 0; s < 3000; s++) m.trainStep(x, y);
      for (let i = 0; i < 20_000; i++) { x1[0] = i * 1e-4; m.run(x1); }
    });
    // 300 + 4 * 3000 steps: the observers froze at step 7000 inside the measured windows
    expect(qatMode(m).step).toBe(12_300);
    expect(w.gc).toBe(0);
    expect(w.heap).toBeLessThanOrEqual(8 * 1024);
  });

  it('the detector catches one small object allocated per step (control)', async () => {
    const sink: { s: number }[] = [];
    const w = await measure(() => {
      for (let s = 0; s < 3000; s++) { m.trainStep(x, y); const junk = { s }; if (s % 1000 === 0) sink.push(junk); }
    });
    expect(sink.length).toBe(12);
    expect(allocated(w)).toBe(true);
  });
});
