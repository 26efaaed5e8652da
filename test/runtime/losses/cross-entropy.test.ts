// cross-entropy kernels (class indices and class probabilities): reference twin, finite
// differences, accumulation, extreme logits, ignored / bad rows, plan-time validation.
// The PyTorch fixtures are checked in fixtures.test.ts.
import { describe, expect, it } from 'vitest';
import {
  crossEntropyBackward, crossEntropyBackwardRef, crossEntropyCheck, crossEntropyForward,
  crossEntropyForwardRef, crossEntropyProbBackward, crossEntropyProbBackwardRef, crossEntropyProbCheck,
  crossEntropyProbForward, crossEntropyProbForwardRef, crossEntropyProbScratchFloats,
  crossEntropyScratchFloats,
} from '../../../runtime/losses/cross-entropy.js';
import { checkClassTargets } from '../../../runtime/losses/checks.js';
import type { BasicReduction, CrossEntropyAttrs, CrossEntropyProbAttrs } from '../../../runtime/losses/types.js';
import { isEdgennError } from '../../../runtime/errors.js';
import { build, checkAccumulates, checkFd, checkTwin, TestRng, type LossHarness } from './harness.js';

const BS = [1, 3, 17];
const CS = [1, 2, 5, 33];
const REDUCTIONS: readonly BasicReduction[] = ['mean', 'sum', 'none'];
const EPS = [0, 0.25, 1];
// 'none': no row ignored; 'some': every third row (i % 3 == 1) set to -100; 'class1': ignoreIndex
// is the in-range class 1, so rows whose label is 1 are skipped
const IGNORE_MODES = ['none', 'some', 'class1'] as const;

// Tolerances (twin): both sides read the same float32 inputs and work in float64; the kernel
// rounds rows/loss to float32 (2^-24 relative) and its backward uses p = exp(logp) from the
// float32 logp cache: |dp| <= p*|logp|*2^-24 <= 2^-24/e, times |g| * w (<= 3 * 1.5) and the
// smoothing term (<= 2x) gives < 5e-7 absolute.
const LOSS_TOL = { abs: 1e-9, rel: 2e-7 };
const GRAD_TOL = { abs: 5e-7, rel: 2e-7 };
// Finite differences (h = 1e-3, float64 Ref): truncation h^2/6 * |d3f| with |d3 (-log softmax)|
// <= 0.1 per unit weight (<= 1.5) and |g| <= 3: < 1e-7; plus the kernel's 5e-7 above.
const FD_TOL = { abs: 1e-6, rel: 1e-5 };

function indexHarness(B: number, C: number, reduction: BasicReduction, hasWeight: boolean,
                      mode: typeof IGNORE_MODES[number], eps: number, rng: TestRng,
                      scale = 2): LossHarness {
  const ignoreIndex = mode === 'class1' ? 1 : -100;
  const attrs: CrossEntropyAttrs = { reduction, ignoreIndex, labelSmoothing: eps, hasWeight };
  const pred = rng.f32(B * C, () => rng.normal() * scale);
  const target = Int32Array.from({ length: B }, (_, i) => (mode === 'some' && i % 3 === 1 ? -100 : rng.int(C)));
  const weight = hasWeight ? rng.f32(C, () => rng.uniform(0.5, 1.5)) : null;
  let tOff = -1, wOff = -1;
  return {
    label: `ce-index B=${B} C=${C} ${reduction} w=${hasWeight} ignore=${mode} eps=${eps}`,
    B, C, none: reduction === 'none', rowsLen: B, scratchLen: crossEntropyScratchFloats(B, C, attrs), pred,
    placeInputs(t) { tOff = t.allocI(target); wOff = weight === null ? -1 : t.allocF(weight); },
    forward(t, o) { crossEntropyForward(t.a, t.ia, o.out, o.rows, o.scratch, o.pred, tOff, wOff, B, C, attrs); },
    backward(t, o) { crossEntropyBackward(t.a, t.ia, o.dpred, o.scratch, o.pred, tOff, wOff, o.gOut, B, C, attrs); },
    refForward: (x) => crossEntropyForwardRef(x, target, weight, B, C, attrs),
    refBackward: (x, g) => crossEntropyBackwardRef(x, target, weight, g, B, C, attrs),
  };
}

function probHarness(B: number, C: number, reduction: BasicReduction, hasWeight: boolean, eps: number,
                     rng: TestRng): LossHarness {
  const attrs: CrossEntropyProbAttrs = { reduction, labelSmoothing: eps, hasWeight };
  const pred = rng.f32(B * C, () => rng.normal() * 2);
  // softmax of random normals with some entries exactly 0 (never a whole row)
  const target = new Float32Array(B * C);
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let j = 0; j < C; j++) { const v = C > 1 && (i + j) % 4 === 3 ? 0 : Math.exp(rng.normal()); target[i * C + j] = v; s += v; }
    for (let j = 0; j < C; j++) target[i * C + j] = target[i * C + j]! / s;
  }
  const weight = hasWeight ? rng.f32(C, () => rng.uniform(0.5, 1.5)) : null;
  let tOff = -1, wOff = -1;
  return {
    label: `ce-probs B=${B} C=${C} ${reduction} w=${hasWeight} eps=${eps}`,
    B, C, none: reduction === 'none', rowsLen: B, scratchLen: crossEntropyProbScratchFloats(B, C, attrs), pred,
    placeInputs(t) { tOff = t.allocF(target); wOff = weight === null ? -1 : t.allocF(weight); },
    forward(t, o) { crossEntropyProbForward(t.a, o.out, o.rows, o.scratch, o.pred, tOff, wOff, B, C, attrs); },
    backward(t, o) { crossEntropyProbBackward(t.a, o.dpred, o.scratch, o.pred, tOff, wOff, o.gOut, B, C, attrs); },
    refForward: (x) => crossEntropyProbForwardRef(x, target, weight, B, C, attrs),
    refBackward: (x, g) => crossEntropyProbBackwardRef(x, target, weight, g, B, C, attrs),
  };
}

function* indexCombos(B: number, C: number, rng: TestRng): Generator<LossHarness> {
  for (const reduction of REDUCTIONS) for (const w of [false, true]) for (const mode of IGNORE_MODES) {
    for (const eps of EPS) yield indexHarness(B, C, reduction, w, mode, eps, rng);
  }
}
function* probCombos(B: number, C: number, rng: TestRng): Generator<LossHarness> {
  for (const reduction of REDUCTIONS) for (const w of [false, true]) for (const eps of EPS) {
    yield probHarness(B, C, reduction, w, eps, rng);
  }
}

/** true when a mean over zero non-ignored rows (NaN loss by PyTorch's rule) */
function allIgnoredMean(h: LossHarness): boolean {
  return h.label.includes(' mean ') && Number.isNaN(h.refForward(h.pred).loss);
}

describe.each(BS.flatMap((B) => CS.map((C) => [B, C] as const)))('cross-entropy B=%i C=%i', (B, C) => {
  it('class indices: kernel matches the float64 twin for every option combination', () => {
    const rng = new TestRng(1000 + B * 100 + C);
    for (const h of indexCombos(B, C, rng)) checkTwin(h, rng, LOSS_TOL, GRAD_TOL);
  });
  it('class indices: gradient matches central differences of the twin', () => {
    const rng = new TestRng(2000 + B * 100 + C);
    for (const h of indexCombos(B, C, rng)) if (!allIgnoredMean(h)) checkFd(h, rng, FD_TOL);
  });
  it('class indices: backward accumulates', () => {
    const rng = new TestRng(3000 + B * 100 + C);
    for (const h of indexCombos(B, C, rng)) checkAccumulates(h, rng);
  });
  it('probabilities: kernel matches the float64 twin for every option combination', () => {
    const rng = new TestRng(4000 + B * 100 + C);
    for (const h of probCombos(B, C, rng)) checkTwin(h, rng, LOSS_TOL, GRAD_TOL);
  });
  it('probabilities: gradient matches central differences of the twin', () => {
    const rng = new TestRng(5000 + B * 100 + C);
    for (const h of probCombos(B, C, rng)) checkFd(h, rng, FD_TOL);
  });
  it('probabilities: backward accumulates', () => {
    const rng = new TestRng(6000 + B * 100 + C);
    for (const h of probCombos(B, C, rng)) checkAccumulates(h, rng);
  });
});

describe('cross-entropy numerics and edge rows', () => {
  it('stays exact for logits of +-1e4 and +-50 (no overflow, no NaN)', () => {
    // row losses are lse - z[t] with lse = max + log(sum exp(z - max)), known in closed form here
    const B = 4, C = 3;
    const logits = Float32Array.of(1e4, -1e4, 0, 50, -50, 0, -1e4, -1e4, -1e4, 1e4, 1e4, -50);
    const target = Int32Array.of(1, 0, 2, 2);
    const want = [2e4, Math.log1p(Math.exp(-50) + Math.exp(-100)), Math.log(3), 1e4 + Math.LN2 + 50];
    for (const reduction of REDUCTIONS) for (const eps of [0, 0.1]) {
      const attrs: CrossEntropyAttrs = { reduction, ignoreIndex: -100, labelSmoothing: eps, hasWeight: false };
      let tOff = -1;
      const h: LossHarness = {
        label: `extreme ${reduction} eps=${eps}`, B, C, none: reduction === 'none', rowsLen: B,
        scratchLen: B * C, pred: logits,
        placeInputs(t) { tOff = t.allocI(target); },
        forward(t, o) { crossEntropyForward(t.a, t.ia, o.out, o.rows, o.scratch, o.pred, tOff, -1, B, C, attrs); },
        backward(t, o) { crossEntropyBackward(t.a, t.ia, o.dpred, o.scratch, o.pred, tOff, -1, o.gOut, B, C, attrs); },
        refForward: (x) => crossEntropyForwardRef(x, target, null, B, C, attrs),
        refBackward: (x, g) => crossEntropyBackwardRef(x, target, null, g, B, C, attrs),
      };
      checkTwin(h, new TestRng(7), LOSS_TOL, GRAD_TOL);
      const { t, o } = build(h, Float32Array.of(1));
      h.forward(t, o);
      h.backward(t, o);
      for (const v of t.read(o.dpred, B * C)) expect(Number.isFinite(v)).toBe(true);
      if (eps === 0) {
        // 1e-7 relative: float32 storage of rows up to 2e4
        for (let i = 0; i < B; i++) expect(Math.abs(t.a[o.rows + i]! - want[i]!)).toBeLessThanOrEqual(1e-7 * want[i]! + 1e-12);
      }
    }
  });

  it('mean over rows that are all ignored is NaN (as PyTorch) with zero gradient; sum is 0', () => {
    const B = 3, C = 4, rng = new TestRng(11);
    const logits = rng.f32(B * C, () => rng.normal());
    for (const reduction of ['mean', 'sum'] as const) for (const eps of [0, 0.2]) {
      const attrs: CrossEntropyAttrs = { reduction, ignoreIndex: -100, labelSmoothing: eps, hasWeight: true };
      const h = indexHarness(B, C, reduction, true, 'none', eps, rng);
      const { t, o } = build({ ...h, pred: logits }, Float32Array.of(1));
      const tOff = t.allocI(Int32Array.of(-100, -100, -100));
      const wOff = t.allocF(Float32Array.of(1, 2, 3, 4));
      crossEntropyForward(t.a, t.ia, o.out, o.rows, o.scratch, o.pred, tOff, wOff, B, C, attrs);
      if (reduction === 'mean') expect(Number.isNaN(t.a[o.out]!)).toBe(true);
      else expect(t.a[o.out]).toBe(0);
      expect(Array.from(t.read(o.rows, B))).toEqual([0, 0, 0]);
      crossEntropyBackward(t.a, t.ia, o.dpred, o.scratch, o.pred, tOff, wOff, o.gOut, B, C, attrs);
      expect(Array.from(t.read(o.dpred, B * C))).toEqual(new Array(B * C).fill(0));
    }
  });

  it('an out-of-range label poisons the loss with NaN and gets no gradient; checkClassTargets finds it', () => {
    const B = 3, C = 4, rng = new TestRng(12);
    const attrs: CrossEntropyAttrs = { reduction: 'sum', ignoreIndex: -100, labelSmoothing: 0, hasWeight: false };
    const h = indexHarness(B, C, 'sum', false, 'none', 0, rng);
    const { t, o } = build(h, Float32Array.of(1));
    const tOff = t.allocI(Int32Array.of(2, 4, 0));
    crossEntropyForward(t.a, t.ia, o.out, o.rows, o.scratch, o.pred, tOff, -1, B, C, attrs);
    expect(Number.isNaN(t.a[o.out]!)).toBe(true);
    expect(Number.isNaN(t.a[o.rows + 1]!)).toBe(true);
    expect(Number.isFinite(t.a[o.rows]!) && Number.isFinite(t.a[o.rows + 2]!)).toBe(true);
    crossEntropyBackward(t.a, t.ia, o.dpred, o.scratch, o.pred, tOff, -1, o.gOut, B, C, attrs);
    expect(Array.from(t.read(o.dpred + C, C))).toEqual([0, 0, 0, 0]);
    expect(checkClassTargets(t.ia, tOff, B, C, -100)).toBe(1);
    t.ia[tOff + 1] = -100;
    expect(checkClassTargets(t.ia, tOff, B, C, -100)).toBe(-1);
    t.ia[tOff + 2] = -1;
    expect(checkClassTargets(t.ia, tOff, B, C, -100)).toBe(2);
    expect(checkClassTargets(t.ia, tOff, B, C, -1)).toBe(1); // -100 is not the ignore index now
  });
});

describe('cross-entropy plan-time checks', () => {
  const ok: CrossEntropyAttrs = { reduction: 'mean', ignoreIndex: -100, labelSmoothing: 0.1, hasWeight: false };
  const code = (f: () => void): string | undefined => {
    try { f(); } catch (e) { return isEdgennError(e) ? e.code : 'not an EdgennError'; }
    return undefined;
  };
  it('accepts valid attrs and rejects bad ones with ARG', () => {
    expect(code(() => crossEntropyCheck(4, 3, ok))).toBeUndefined();
    expect(code(() => crossEntropyCheck(4, 3, { ...ok, labelSmoothing: 1 }))).toBeUndefined();
    expect(code(() => crossEntropyCheck(4, 3, { ...ok, ignoreIndex: 2 }))).toBeUndefined();
    const bad: unknown[] = [
      { ...ok, reduction: 'batchmean' }, { ...ok, reduction: 'avg' }, { ...ok, labelSmoothing: -0.1 },
      { ...ok, labelSmoothing: 1.5 }, { ...ok, labelSmoothing: NaN }, { ...ok, ignoreIndex: 1.5 },
      { ...ok, ignoreIndex: 2 ** 31 }, { ...ok, hasWeight: 'yes' },
    ];
    for (const b of bad) expect(code(() => crossEntropyCheck(4, 3, b as CrossEntropyAttrs)), JSON.stringify(b)).toBe('ARG');
    const okP: CrossEntropyProbAttrs = { reduction: 'sum', labelSmoothing: 0, hasWeight: true };
    expect(code(() => crossEntropyProbCheck(4, 3, okP))).toBeUndefined();
    expect(code(() => crossEntropyProbCheck(4, 3, { ...okP, labelSmoothing: 2 }))).toBe('ARG');
    expect(code(() => crossEntropyProbCheck(4, 3, { ...okP, reduction: 'batchmean' as BasicReduction }))).toBe('ARG');
  });
  it('rejects empty or fractional dimensions with SHAPE', () => {
    for (const [B, C] of [[0, 3], [3, 0], [1.5, 3], [3, -1]] as const) {
      expect(code(() => crossEntropyCheck(B, C, ok))).toBe('SHAPE');
      expect(code(() => crossEntropyProbCheck(B, C, { reduction: 'mean', labelSmoothing: 0, hasWeight: false }))).toBe('SHAPE');
    }
  });
  it('names the loss and the expected values in the message', () => {
    try { crossEntropyCheck(2, 2, { ...ok, labelSmoothing: 3 }); } catch (e) {
      expect(String(e)).toMatch(/cross_entropy.*labelSmoothing.*\[0, 1\].*3/);
      return;
    }
    throw new Error('did not throw');
  });
});
