// SGD against hand-derived torch.optim.SGD (1.13 _single_tensor_sgd) trajectories, against its
// float64 twin sgdStepRef, and for staying inside its slabs.
import { describe, expect, it } from 'vitest';
import { SgdOptimizer, resolveSgdConfig, sgdStepRef } from '../../../runtime/optim/sgd.js';
import type { SgdConfig } from '../../../runtime/optim/optimizer.js';
import { EdgennError } from '../../../runtime/errors.js';
import { expectClose } from '../../helpers/reference.js';
import { makeSlabs, params, randomF32, setGrads, state, touchedOutside } from './slabs.js';

const P0 = [1.0, -2.0, 0.5];
const GRADS = [[0.1, -0.2, 0.3], [0.4, 0.0, -0.1], [-0.3, 0.2, 0.05]];

// Tolerances. REF: float64 twin vs float64 hand values, only the order of a few float64 operations
// can differ: 1e-12. F32: the float32 step vs float64 hand values: each step rounds ~6 times to
// float32 (2^-24 ~ 6e-8 relative) on values <= 2 in magnitude, and the hyper-parameters are
// rounded to float32 as torch does: 3 steps stay well under 1e-6.
const REF = { abs: 1e-12, rel: 0 };
const F32 = { abs: 1e-6, rel: 0 };

function runRef(cfg: SgdConfig, steps: number): { p: number[]; buf: number[] }[] {
  const r = resolveSgdConfig(cfg);
  const p = P0.slice(), buf = [0, 0, 0], out: { p: number[]; buf: number[] }[] = [];
  for (let t = 1; t <= steps; t++) {
    sgdStepRef(r, p, GRADS[t - 1]!, buf, t);
    out.push({ p: p.slice(), buf: buf.slice() });
  }
  return out;
}

function runF32(cfg: SgdConfig, steps: number): { p: number[]; buf: number[]; outside: number[] }[] {
  const opt = new SgdOptimizer(cfg);
  const sl = makeSlabs(P0, opt.stateFloatsPerParam);
  const out: { p: number[]; buf: number[]; outside: number[] }[] = [];
  for (let t = 1; t <= steps; t++) {
    setGrads(sl, GRADS[t - 1]!);
    opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, t);
    out.push({ p: params(sl), buf: state(sl), outside: touchedOutside(sl) });
  }
  return out;
}

describe('sgd: hand-derived torch trajectories', () => {
  // lr 0.1, momentum 0.9, dampening 0.5, weight decay 0.01; element 0 by hand:
  //   t=1: d = 0.1 + 0.01*1 = 0.11;  buf = d = 0.11 (first step: no dampening);  p = 1 - 0.011 = 0.989
  //   t=2: d = 0.4 + 0.01*0.989 = 0.40989;  buf = 0.9*0.11 + 0.5*0.40989 = 0.303945;  p = 0.9586055
  //   t=3: d = -0.3 + 0.009586055;  buf = 0.9*0.303945 + 0.5*d = 0.1283435275;  p = 0.94577114725
  const damped: SgdConfig = { kind: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.01 };
  const dampedP = [
    [0.989, -1.978, 0.46950000000000003],
    [0.9586055, -1.957211, 0.44681525],
    [0.94577114725, -1.9475222945000001, 0.423675567375],
  ];
  const dampedBuf = [
    [0.11, -0.22, 0.305],
    [0.303945, -0.20789000000000002, 0.22684750000000004],
    [0.12834352750000003, -0.09688705500000001, 0.23139682625000002],
  ];

  it('momentum + dampening + weight decay (float64 twin)', () => {
    const r = runRef(damped, 3);
    for (let t = 0; t < 3; t++) {
      expectClose(`p after step ${t + 1}`, r[t]!.p, dampedP[t]!, REF);
      expectClose(`buf after step ${t + 1}`, r[t]!.buf, dampedBuf[t]!, REF);
    }
  });

  it('momentum + dampening + weight decay (float32 arena step)', () => {
    const r = runF32(damped, 3);
    for (let t = 0; t < 3; t++) {
      expectClose(`p after step ${t + 1}`, r[t]!.p, dampedP[t]!, F32);
      expectClose(`buf after step ${t + 1}`, r[t]!.buf, dampedBuf[t]!, F32);
      expect(r[t]!.outside).toEqual([]);
    }
  });

  it('first step: the buffer is d itself, not (1 - dampening) * d', () => {
    const [first] = runF32(damped, 1);
    // a damped first buffer would give 1 - 0.1 * 0.5 * 0.11 = 0.9945
    expect(first!.buf[0]).toBeCloseTo(0.11, 6);
    expect(first!.p[0]).toBeCloseTo(0.989, 6);
  });

  it('nesterov', () => {
    // lr 0.1, momentum 0.9; element 0: t=1: buf = 0.1, d = 0.1 + 0.9*0.1 = 0.19, p = 0.981;
    // t=2: buf = 0.09 + 0.4 = 0.49, d = 0.4 + 0.441 = 0.841, p = 0.8969
    const cfg: SgdConfig = { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true };
    const want = [[0.981, -1.962, 0.443], [0.8969, -1.9458, 0.4377], [0.91421, -1.96922, 0.41442999999999997]];
    const ref = runRef(cfg, 3), f32 = runF32(cfg, 3);
    for (let t = 0; t < 3; t++) {
      expectClose(`ref p after step ${t + 1}`, ref[t]!.p, want[t]!, REF);
      expectClose(`f32 p after step ${t + 1}`, f32[t]!.p, want[t]!, F32);
    }
  });

  it('maximize ascends: p += lr * g', () => {
    const cfg: SgdConfig = { kind: 'sgd', lr: 0.1, maximize: true };
    const want = [[1.01, -2.02, 0.53], [1.05, -2.02, 0.52], [1.02, -2.0, 0.525]];
    const ref = runRef(cfg, 3), f32 = runF32(cfg, 3);
    for (let t = 0; t < 3; t++) {
      expectClose(`ref p after step ${t + 1}`, ref[t]!.p, want[t]!, REF);
      expectClose(`f32 p after step ${t + 1}`, f32[t]!.p, want[t]!, F32);
    }
  });

  it('no momentum: no state, the state offset is never touched', () => {
    const opt = new SgdOptimizer({ kind: 'sgd', lr: 0.1, weightDecay: 0.01 });
    expect(opt.stateFloatsPerParam).toBe(0);
    const sl = makeSlabs(P0, 0);      // zero state floats: a[s] is a sentinel
    setGrads(sl, GRADS[0]!);
    opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, 1);
    expect(touchedOutside(sl)).toEqual([]);
    // p - lr * (g + wd * p): element 0 = 1 - 0.1 * 0.11
    expectClose('p', params(sl), [0.989, -1.978, 0.4695], F32);
  });
});

describe('sgd: float32 rounding and the float64 twin', () => {
  it('a plain step is torch\'s fused p + float32(-lr) * g, rounded once', () => {
    // exact equality: this is the float32 result torch's add_(g, alpha=-lr) produces
    const p = randomF32(64, 1), g = randomF32(64, 2, 3);
    const opt = new SgdOptimizer({ kind: 'sgd', lr: 0.1 });
    const sl = makeSlabs(p, 0);
    setGrads(sl, g);
    opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, 1);
    const negLr = Math.fround(-0.1);
    expect(params(sl)).toEqual(p.map((w, i) => Math.fround(w + negLr * g[i]!)));
  });

  const configs: SgdConfig[] = [
    { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
    { kind: 'sgd', lr: 0.02, momentum: 0.8, dampening: 0.3, weightDecay: 0.05 },
    { kind: 'sgd', lr: 0.03, momentum: 0.95, nesterov: true, weightDecay: 0.01 },
    { kind: 'sgd', lr: 0.01, momentum: 0.5, maximize: true },
  ];
  for (const cfg of configs) {
    it(`40 random steps agree with sgdStepRef: ${JSON.stringify(cfg)}`, () => {
      // Tolerance abs 1e-5 + rel 1e-5: the float32 step rounds each op (~6e-8 relative) and uses
      // float32 hyper-parameters; momentum sums up to ~1/(1-m) = 20 past updates, over 40 steps
      // the accumulated rounding stays a few 1e-6 on parameters of magnitude ~1.
      const n = 37, steps = 40;
      const opt = new SgdOptimizer(cfg);
      const r = resolveSgdConfig(cfg);
      const p0 = randomF32(n, 7);
      const sl = makeSlabs(p0, opt.stateFloatsPerParam);
      const refP = p0.slice(), refS = new Array<number>(n).fill(0);
      for (let t = 1; t <= steps; t++) {
        const g = randomF32(n, 100 + t);
        setGrads(sl, g);
        opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, t);
        sgdStepRef(r, refP, g, refS, t);
      }
      expectClose('params', params(sl), refP, { abs: 1e-5, rel: 1e-5 });
      expectClose('momentum buffer', state(sl), refS, { abs: 1e-5, rel: 1e-5 });
      expect(touchedOutside(sl)).toEqual([]);
    });
  }
});

describe('sgd: lr, config and resuming', () => {
  it('resuming from config() and the state slab at step t is bit-identical to running on', () => {
    const cfg: SgdConfig = { kind: 'sgd', lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 };
    const n = 16;
    const straight = new SgdOptimizer(cfg);
    const a = makeSlabs(randomF32(n, 3), 1);
    const b = makeSlabs(randomF32(n, 3), 1);
    const first = new SgdOptimizer(cfg);
    for (let t = 1; t <= 10; t++) {
      const g = randomF32(n, 50 + t);
      setGrads(a, g);
      straight.step(a.a, a.p, a.g, a.s, a.n, t);
      setGrads(b, g);
      if (t <= 5) first.step(b.a, b.p, b.g, b.s, b.n, t);
      else {
        const resumed = new SgdOptimizer(first.config() as SgdConfig);
        resumed.step(b.a, b.p, b.g, b.s, b.n, t);
      }
    }
    expect(Array.from(b.a)).toEqual(Array.from(a.a));
  });

  it('lr is read at every step (a schedule sets it between steps)', () => {
    const opt = new SgdOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9 });
    const sl = makeSlabs(P0, 1);
    setGrads(sl, GRADS[0]!);
    opt.lr = 0;
    opt.step(sl.a, sl.p, sl.g, sl.s, sl.n, 1);
    expect(params(sl)).toEqual(P0);                       // no move at lr 0 ...
    expectClose('buf', state(sl), GRADS[0]!, F32);        // ... but the buffer still updates
    opt.lr = 0.5;
    expect(opt.config().lr).toBe(0.5);
  });

  it('config() fills torch defaults', () => {
    expect(new SgdOptimizer({ kind: 'sgd', lr: 0.1 }).config()).toEqual({
      kind: 'sgd', lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false,
    });
  });
});

describe('sgd: validation like torch', () => {
  const bad: [string, unknown, string][] = [
    ['negative lr', { kind: 'sgd', lr: -0.1 }, "'lr'"],
    ['missing lr', { kind: 'sgd' }, "'lr'"],
    ['NaN lr', { kind: 'sgd', lr: NaN }, "'lr'"],
    ['negative momentum', { kind: 'sgd', lr: 0.1, momentum: -0.5 }, "'momentum'"],
    ['negative weight decay', { kind: 'sgd', lr: 0.1, weightDecay: -1 }, "'weightDecay'"],
    ['infinite dampening', { kind: 'sgd', lr: 0.1, dampening: Infinity }, "'dampening'"],
    ['nesterov without momentum', { kind: 'sgd', lr: 0.1, nesterov: true }, "'nesterov'"],
    ['nesterov with dampening', { kind: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }, "'nesterov'"],
    ['non-boolean nesterov', { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: 1 }, "'nesterov'"],
    ['torch spelling weight_decay', { kind: 'sgd', lr: 0.1, weight_decay: 1e-4 }, "'weight_decay'"],
  ];
  for (const [what, cfg, names] of bad) {
    it(`rejects ${what}`, () => {
      let err: unknown;
      try { new SgdOptimizer(cfg as SgdConfig); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(EdgennError);
      expect((err as EdgennError).code).toBe('ARG');
      expect((err as EdgennError).message).toContain(names);
    });
  }
  it('accepts lr 0 and momentum 0 (torch does)', () => {
    expect(() => new SgdOptimizer({ kind: 'sgd', lr: 0, momentum: 0 })).not.toThrow();
  });
});
