// Adam / AdamW against hand-derived torch 1.13 (_single_tensor_adam / _adamw) trajectories, the
// float64 twin adamStepRef, and for staying inside their slabs (m | v | vmax).
import { describe, expect, it } from 'vitest';
import { AdamOptimizer, adamStepRef, resolveAdamConfig } from '../../../runtime/optim/adam.js';
import type { AdamConfig } from '../../../runtime/optim/optimizer.js';
import { EdgennError } from '../../../runtime/errors.js';
import { expectClose } from '../../helpers/reference.js';
import { makeSlabs, params, randomF32, setGrads, state, touchedOutside } from './slabs.js';

// Tolerances. REF: the float64 twin vs float64 hand values (same formulas, the order of a few
// float64 operations may differ): 1e-12. F32: the float32 step vs float64 values: ~10 roundings
// per step at 2^-24 relative on an update of size <= lr plus the float32 rounding of the
// parameter itself (|p| <= 3 -> 1.2e-7 per step): 3 steps stay under 1e-6.
const REF = { abs: 1e-12, rel: 0 };
const F32 = { abs: 1e-6, rel: 0 };

function runRef(cfg: AdamConfig, p0: number[], grads: number[][]): number[][] {
  const r = resolveAdamConfig(cfg);
  const p = p0.slice(), s = new Array<number>((r.amsgrad ? 3 : 2) * p0.length).fill(0);
  return grads.map((g, k) => { adamStepRef(r, p, g, s, k + 1); return p.slice(); });
}

function runF32(cfg: AdamConfig, p0: number[], grads: number[][]): number[][] {
  const opt = new AdamOptimizer(cfg);
  const sl = makeSlabs(p0, opt.stateFloatsPerParam);
  return grads.map((g, k) => {
    setGrads(sl, g);
    opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, k + 1);
    expect(touchedOutside(sl)).toEqual([]);
    return params(sl);
  });
}

function both(cfg: AdamConfig, p0: number[], grads: number[][], want: number[][]): void {
  const ref = runRef(cfg, p0, grads), f32 = runF32(cfg, p0, grads);
  for (let t = 0; t < want.length; t++) {
    expectClose(`ref p after step ${t + 1}`, ref[t]!, want[t]!, REF);
    expectClose(`f32 p after step ${t + 1}`, f32[t]!, want[t]!, F32);
  }
}

const P0 = [0.5, -1.0];
const GRADS = [[0.2, -0.01], [-0.1, 0.03], [0.05, 0.05]];

describe('adam: hand-derived torch trajectories', () => {
  it('bias correction: the first step moves each parameter by lr * g / (|g| + eps)', () => {
    // t=1: m = 0.1 g, v = 0.001 g^2, step_size = lr / 0.1, denom = sqrt(v) / sqrt(0.001) + eps
    //      = |g| + 1e-8: p = 0.5 - 0.01 * 0.2 / (0.2 + 1e-8) = 0.4900000005
    // t=2: m = 0.9*0.02 + 0.1*(-0.1) = 0.008, v = 0.999*4e-5 + 0.001*0.01 = 4.996e-5,
    //      p = 0.49 - (0.01/0.19) * 0.008 / (sqrt(4.996e-5)/sqrt(1-0.999^2) + 1e-8)
    both({ kind: 'adam', lr: 0.01 }, P0, GRADS, [
      [0.4900000005, -0.99000000999999],
      [0.4873366302718676, -0.9949419061233199],
      [0.48393233904720767, -1.0023828405354003],
    ]);
  });

  it('adam weight decay is L2 added to the gradient (it moves p by ~lr even at g = 0)', () => {
    // g = 0: grad = 0.5 * p, so step 1 is p - 0.1 * sign(p) (up to eps): 2 -> 1.900000001
    both({ kind: 'adam', lr: 0.1, weightDecay: 0.5 }, [2.0, -3.0], [[0, 0], [0, 0]], [
      [1.900000001, -2.9000000006666666],
      [1.8001664876318761, -2.8001027084220778],
    ]);
  });

  it('adamw decay is decoupled: at g = 0, p *= (1 - lr*wd) each step and nothing else', () => {
    both({ kind: 'adamw', lr: 0.1, weightDecay: 0.5 }, [2.0, -3.0], [[0, 0], [0, 0]], [
      [2 * 0.95, -3 * 0.95],
      [2 * 0.95 * 0.95, -3 * 0.95 * 0.95],
    ]);
  });

  it('adamw with gradients: decay first, then the Adam update', () => {
    // t=1: p = 0.5 * (1 - 0.01*0.1) = 0.4995, then - 0.01 * 0.2/(0.2 + 1e-8) -> 0.4895000005
    both({ kind: 'adamw', lr: 0.01, weightDecay: 0.1 }, P0, GRADS, [
      [0.4895000005, -0.98900000999999],
      [0.48634713027136756, -0.9929529061133199],
      [0.4824564919164363, -0.999400887619287],
    ]);
  });

  it('amsgrad divides by the running max of v', () => {
    // beta2 = 0.5, g = 1 then 0: v = 0.5 then 0.25, vmax stays 0.5. t=2: m = 0.09,
    // step_size = 0.1 / 0.19, denom = sqrt(0.5)/sqrt(0.75) + eps (amsgrad) vs sqrt(0.25)/sqrt(0.75)
    const cfg: AdamConfig = { kind: 'adam', lr: 0.1, betas: [0.9, 0.5], amsgrad: true };
    both(cfg, [0], [[1], [0]], [[-0.09999999900000002], [-0.1580142290396016]]);
    both({ ...cfg, amsgrad: false }, [0], [[1], [0]], [[-0.09999999900000002], [-0.18204450951642054]]);
    // the slab holds m | v | vmax after the two steps
    const opt = new AdamOptimizer(cfg);
    expect(opt.stateFloatsPerParam).toBe(3);
    const sl = makeSlabs([0], 3);
    setGrads(sl, [1]); opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, 1);
    setGrads(sl, [0]); opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, 2);
    expectClose('m, v, vmax', state(sl), [0.09, 0.25, 0.5], { abs: 1e-8, rel: 0 });  // float32 of these
  });

  it('maximize ascends', () => {
    // first step: p + lr * g / (|g| + eps)
    const r = runF32({ kind: 'adam', lr: 0.01, maximize: true }, P0, [GRADS[0]!]);
    expectClose('p', r[0]!, [0.5 + 0.01 * 0.2 / (0.2 + 1e-8), -1 - 0.01 * 0.01 / (0.01 + 1e-8)], F32);
  });
});

describe('adam: float32 rounding and the float64 twin', () => {
  it('m and v are stored with torch\'s float32 op-by-op rounding', () => {
    // exact equality on the first step (m = v = 0 before): m = fround(0 + fround(1-b1) * g),
    // v = fround(0 + fround(fround(fround(1-b2) * g) * g))
    const g = randomF32(32, 9, 2);
    const opt = new AdamOptimizer({ kind: 'adam' });
    const sl = makeSlabs(randomF32(32, 8), 2);
    setGrads(sl, g);
    opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, 1);
    const c1 = Math.fround(1 - 0.9), c2 = Math.fround(1 - 0.999);
    const s = state(sl);
    expect(s.slice(0, 32)).toEqual(g.map((x) => Math.fround(c1 * x)));
    expect(s.slice(32)).toEqual(g.map((x) => Math.fround(Math.fround(c2 * x) * x)));
  });

  const configs: AdamConfig[] = [
    { kind: 'adam', lr: 0.01 },
    { kind: 'adam', lr: 0.003, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.01, amsgrad: true },
    { kind: 'adamw', lr: 0.01 },
    { kind: 'adamw', lr: 0.005, weightDecay: 0.1, amsgrad: true, maximize: true },
  ];
  for (const cfg of configs) {
    it(`60 random steps agree with adamStepRef: ${JSON.stringify(cfg)}`, () => {
      // Tolerance abs 2e-6 + rel 1e-5: each Adam update is at most ~lr in size and carries the
      // float32 rounding of ~10 ops (relative 6e-8 each, ~1e-8 absolute at lr 0.01) plus the
      // rounding of p itself (6e-8); 60 steps accumulate at most ~1e-6 absolute. The moments are
      // EMAs of gradients of size <= 0.5 that cancel (m can be ~1e-4 while g ~ 0.5): their error
      // is absolute, ~0.5 * 2^-24 = 3e-8 per rounding (and float32 betas), damped by the EMA over
      // ~1/(1-b1) = 10 steps: abs 1e-7, with rel 1e-5 for the larger v entries.
      const n = 41, steps = 60;
      const opt = new AdamOptimizer(cfg);
      const r = resolveAdamConfig(cfg);
      const p0 = randomF32(n, 11);
      const sl = makeSlabs(p0, opt.stateFloatsPerParam);
      const refP = p0.slice(), refS = new Array<number>(sl.stateFloats).fill(0);
      for (let t = 1; t <= steps; t++) {
        const g = randomF32(n, 200 + t, 0.5);
        setGrads(sl, g);
        opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, t);
        adamStepRef(r, refP, g, refS, t);
      }
      expectClose('params', params(sl), refP, { abs: 2e-6, rel: 1e-5 });
      expectClose('m | v | vmax', state(sl), refS, { abs: 1e-7, rel: 1e-5 });
      expect(touchedOutside(sl)).toEqual([]);
    });
  }
});

describe('adam: lr, config and resuming', () => {
  it('resuming from config() and the state slab at step t is bit-identical to running on', () => {
    const cfg: AdamConfig = { kind: 'adamw', lr: 0.01, weightDecay: 0.05, amsgrad: true };
    const n = 16;
    const straight = new AdamOptimizer(cfg), first = new AdamOptimizer(cfg);
    const a = makeSlabs(randomF32(n, 4), 3), b = makeSlabs(randomF32(n, 4), 3);
    for (let t = 1; t <= 10; t++) {
      const g = randomF32(n, 70 + t);
      setGrads(a, g);
      straight.step(a.a, a.p, a.g, a.s, a.n, t);
      setGrads(b, g);
      const opt = t <= 5 ? first : new AdamOptimizer(first.config() as AdamConfig);
      opt.step(b.a, b.p, b.g, b.s, b.n, t);
    }
    expect(Array.from(b.a)).toEqual(Array.from(a.a));
  });

  it('lr is read at every step; adamw decay uses the current lr', () => {
    const opt = new AdamOptimizer({ kind: 'adamw', lr: 0.1, weightDecay: 0.5 });
    const sl = makeSlabs([2], 2);
    opt.lr = 0.2;                                           // g = 0: p *= 1 - 0.2*0.5
    opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, 1);
    expect(params(sl)[0]).toBe(Math.fround(2 * Math.fround(0.9)));
  });

  it('config() fills torch defaults (adamw weight decay 0.01)', () => {
    expect(new AdamOptimizer({ kind: 'adam' }).config()).toEqual({
      kind: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false,
    });
    expect(new AdamOptimizer({ kind: 'adamw', lr: 0.01 }).config().weightDecay).toBe(0.01);
    expect(new AdamOptimizer({ kind: 'adamw', lr: 0.01 }).stateFloatsPerParam).toBe(2);
  });
});

describe('adam: validation like torch', () => {
  const bad: [string, unknown, string][] = [
    ['negative lr', { kind: 'adam', lr: -1 }, "'lr'"],
    ['negative eps', { kind: 'adam', eps: -1e-8 }, "'eps'"],
    ['beta1 = 1', { kind: 'adam', betas: [1, 0.999] }, "'betas[0]'"],
    ['negative beta2', { kind: 'adamw', betas: [0.9, -0.1] }, "'betas[1]'"],
    ['betas not a pair', { kind: 'adam', betas: [0.9] }, "'betas'"],
    ['negative weight decay', { kind: 'adamw', weightDecay: -0.01 }, "'weightDecay'"],
    ['non-boolean amsgrad', { kind: 'adam', amsgrad: 'yes' }, "'amsgrad'"],
    ['unknown option', { kind: 'adam', momentum: 0.9 }, "'momentum'"],
  ];
  for (const [what, cfg, names] of bad) {
    it(`rejects ${what}`, () => {
      let err: unknown;
      try { new AdamOptimizer(cfg as AdamConfig); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(EdgennError);
      expect((err as EdgennError).code).toBe('ARG');
      expect((err as EdgennError).message).toContain(names);
    });
  }
});
