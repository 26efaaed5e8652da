// The trainer: learning on a seeded spiral, fixed-order equivalence with hand-written steps,
// validation split and early stopping, schedules, clipping, health signals and NaN stops.
import { describe, it, expect } from 'vitest';
import { sequential, type LayerSpec } from '../../../runtime/graph/sequential.js';
import { compile } from '../../../runtime/model.js';
import { fit, evaluate, type Dataset, type StepRecord } from '../../../runtime/train/trainer.js';
import { spiral } from '../../helpers/datasets.js';
import { EdgennError } from '../../../runtime/errors.js';

const MLP: LayerSpec[] = [{ type: 'dense', out: 32 }, { type: 'relu' }, { type: 'dense', out: 32 }, { type: 'tanh' }, { type: 'dense', out: 3 }];

describe('fit', () => {
  it('learns a spiral with Adam (loss falls, accuracy > 90 %)', () => {
    const data = spiral(300, 1);
    const m = compile(sequential([2], MLP, { seed: 1 }), { maxBatch: 32, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 0.02 } });
    const before = evaluate(m, data);
    const r = fit(m, data, { epochs: 60, batchSize: 32, seed: 2 });
    const after = evaluate(m, data);
    expect(r.stopReason).toBe('completed');
    expect(r.epochs).toHaveLength(60);
    expect(after.loss).toBeLessThan(before.loss / 4);
    expect(after.accuracy).toBeGreaterThan(0.9);
  });

  it('with shuffle off equals hand-written trainStep calls bit for bit', () => {
    const data = spiral(50, 3);
    const mk = () => compile(sequential([2], MLP, { seed: 4 }), { maxBatch: 16, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 } });
    const a = mk(), b = mk();
    const losses: number[] = [];
    fit(a, data, { epochs: 3, batchSize: 16, shuffle: false, onStep: (r) => losses.push(r.loss) });
    const manual: number[] = [];
    for (let e = 0; e < 3; e++) {
      for (let from = 0; from < 50; from += 16) {
        const n = Math.min(16, 50 - from);
        b.trainStep(data.x.subarray(from * 2, (from + n) * 2), data.y.subarray(from, from + n), n);
        manual.push(b.lossView[0]!);
      }
    }
    expect(losses).toEqual(manual);
    for (const p of a.paramNames()) expect(Array.from(a.param(p))).toEqual(Array.from(b.param(p)));
  });

  it('holds out a validation split and stops early, restoring the best weights', () => {
    const data = spiral(120, 5);
    // a learning rate this high makes validation loss rise after a few epochs
    const m = compile(sequential([2], MLP, { seed: 6 }), { maxBatch: 16, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 2.5, momentum: 0.9 } });
    const r = fit(m, data, { epochs: 200, batchSize: 16, validationSplit: 0.25, earlyStopping: { patience: 3 }, seed: 1 });
    expect(r.epochs.every((e) => e.valLoss !== null)).toBe(true);
    expect(r.stopReason === 'early-stopping' || r.stopReason === 'non-finite').toBe(true);
    if (r.stopReason === 'early-stopping') {
      expect(r.epochs.length).toBe(r.bestEpoch + 1 + 3);
    }
  });

  it('follows an LR schedule and clips the gradient norm', () => {
    const data = spiral(64, 7);
    const m = compile(sequential([2], MLP, { seed: 8 }), { maxBatch: 16, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.1 } });
    const seen: { lr: number; norm: number }[] = [];
    fit(m, data, { epochs: 2, batchSize: 16, schedule: { kind: 'cosine', tMax: 8 }, clipGradNorm: 0.5,
      onStep: (r) => seen.push({ lr: r.lr, norm: r.gradNorm }) });
    expect(seen).toHaveLength(8);
    expect(seen[0]!.lr).toBeCloseTo(0.1, 10);
    for (let t = 0; t < 8; t++) expect(seen[t]!.lr).toBeCloseTo(0.05 * (1 + Math.cos(Math.PI * t / 8)), 10);
    expect(seen.every((s) => Number.isFinite(s.norm) && s.norm > 0)).toBe(true);
  });

  it('reports health: per-layer gradient norms, dead ReLUs, saturated tanh', () => {
    const data = spiral(64, 9);
    // a hugely negative bias kills every unit of the first ReLU layer
    const layers: LayerSpec[] = [{ type: 'dense', out: 8, biasData: Array(8).fill(-100) }, { type: 'relu' }, { type: 'dense', out: 8 }, { type: 'tanh' }, { type: 'dense', out: 3 }];
    const m = compile(sequential([2], layers, { seed: 1 }), { maxBatch: 16, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.01 }, probes: true });
    const recs: StepRecord[] = [];
    fit(m, data, { epochs: 1, batchSize: 16, healthEvery: 2, onStep: (r) => recs.push({ ...r }) });
    const withHealth = recs.filter((r) => r.health !== null);
    expect(withHealth.map((r) => r.step)).toEqual([1, 3]);
    const h = withHealth[0]!.health!;
    expect(h.layers.map((l) => l.param)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect(h.layers[0]!.gradNorm).toBe(0); // nothing flows through dead units
    expect(h.layers[4]!.gradNorm).toBeGreaterThan(0);
    const dead = h.activations.find((a) => a.kind === 'dead')!;
    expect(dead.fraction).toBe(1);
    expect(h.activations.find((a) => a.kind === 'sat-tanh')!.fraction).toBeGreaterThanOrEqual(0);
  });

  it('stops on a non-finite loss', () => {
    const data = spiral(64, 9);
    const m = compile(sequential([2], MLP, { seed: 1 }), { maxBatch: 16, loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 1e6 } });
    const y = new Float32Array(64 * 3).fill(1);
    const r = fit(m, { ...data, y, targetFloats: 3 }, { epochs: 50, batchSize: 16 });
    expect(r.stopReason).toBe('non-finite');
  });

  it('refuses data that does not fit the model, naming the tensor', () => {
    const m = compile(sequential([2], MLP), { maxBatch: 16, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.1 } });
    const bad: Dataset = { x: new Float32Array(30), sampleDims: [3], y: new Int32Array(10), targetFloats: 1, n: 10 };
    expect(() => fit(m, bad, { epochs: 1, batchSize: 4 })).toThrow(/tensor input: training data does not match the model input; expected \[N, 2\], got \[10, 3\]/);
    const nan = spiral(10, 1);
    nan.x[5] = NaN;
    expect(() => fit(m, nan, { epochs: 1, batchSize: 4 })).toThrow(EdgennError);
    expect(() => fit(m, spiral(10, 1), { epochs: 1, batchSize: 64 })).toThrow(/batchSize exceeds/);
  });
});
