// binary_cross_entropy (probabilities) kernel: reference twin (every weight shape x reduction),
// finite differences, accumulation, PyTorch's clamps at 0 and 1, input checks, validation.
// There is no PyTorch fixture for it in the reference set; the twin, finite differences and the
// closed forms below pin its semantics.
import { describe, expect, it } from 'vitest';
import {
  bceBackward, bceBackwardRef, bceCheck, bceForward, bceForwardRef, bceScratchFloats, checkBceProbabilities,
} from '../../../runtime/losses/bce.js';
import { weightFloats, type BasicReduction, type BceAttrs, type WeightShape } from '../../../runtime/losses/types.js';
import { isEdgennError } from '../../../runtime/errors.js';
import { build, checkAccumulates, checkFd, checkTwin, TestRng, type LossHarness } from './harness.js';

const BS = [1, 3, 17];
const CS = [1, 2, 5, 33];
const REDUCTIONS: readonly BasicReduction[] = ['mean', 'sum', 'none'];
const WEIGHTS: readonly (WeightShape | null)[] = [null, 'C', 'B', 'BC'];

// Twin: float64 on both sides from the same float32 inputs; outputs rounded once to float32.
// (The kernel uses log1p(-x) and the twin log(1 - x); for float32 x both are accurate to ~1e-16.)
const LOSS_TOL = { abs: 1e-12, rel: 2e-7 };
const GRAD_TOL = { abs: 1e-12, rel: 2e-7 };
// Finite differences (h = 1e-3) with x in [0.25, 0.75]: truncation h^2/6 * |d3f| where
// |d3f| <= 2/0.25^3 = 128 per unit of weight (<= 1.5) and |g| (<= ~3): < 1e-4 absolute.
const FD_TOL = { abs: 1e-4, rel: 1e-5 };

function harness(B: number, C: number, reduction: BasicReduction, ws: WeightShape | null, rng: TestRng,
                 lo = 0.02, hi = 0.98): LossHarness {
  const attrs: BceAttrs = { reduction, hasWeight: ws !== null, ...(ws !== null ? { weightShape: ws } : {}) };
  const pred = rng.f32(B * C, () => rng.uniform(lo, hi));
  const target = rng.f32(B * C, () => { const u = rng.next(); return u < 0.4 ? 0 : u < 0.8 ? 1 : rng.next(); });
  const weight = ws === null ? null : rng.f32(weightFloats(B, C, ws), () => rng.uniform(0.5, 1.5));
  let tOff = -1, wOff = -1;
  return {
    label: `bce B=${B} C=${C} ${reduction} w=${ws}`,
    B, C, none: reduction === 'none', rowsLen: B * C, scratchLen: bceScratchFloats(B, C, attrs), pred,
    placeInputs(t) { tOff = t.allocF(target); wOff = weight === null ? -1 : t.allocF(weight); },
    forward(t, o) { bceForward(t.a, o.out, o.rows, o.pred, tOff, wOff, B, C, attrs); },
    backward(t, o) { bceBackward(t.a, o.dpred, o.pred, tOff, wOff, o.gOut, B, C, attrs); },
    refForward: (x) => bceForwardRef(x, target, weight, B, C, attrs),
    refBackward: (x, g) => bceBackwardRef(x, target, weight, g, B, C, attrs),
  };
}

describe.each(BS.flatMap((B) => CS.map((C) => [B, C] as const)))('bce B=%i C=%i', (B, C) => {
  it('kernel matches the float64 twin for every option combination', () => {
    const rng = new TestRng(70 + B * 100 + C);
    for (const r of REDUCTIONS) for (const ws of WEIGHTS) checkTwin(harness(B, C, r, ws, rng), rng, LOSS_TOL, GRAD_TOL);
  });
  it('gradient matches central differences of the twin', () => {
    const rng = new TestRng(80 + B * 100 + C);
    for (const r of REDUCTIONS) for (const ws of WEIGHTS) checkFd(harness(B, C, r, ws, rng, 0.25, 0.75), rng, FD_TOL);
  });
  it('backward accumulates', () => {
    const rng = new TestRng(90 + B * 100 + C);
    for (const r of REDUCTIONS) for (const ws of WEIGHTS) checkAccumulates(harness(B, C, r, ws, rng), rng);
  });
});

describe('bce clamps, input checks, validation', () => {
  it('clamps each log at -100 and uses PyTorch backward with the 1e-12 floor', () => {
    const B = 1, C = 6;
    const attrs: BceAttrs = { reduction: 'none', hasWeight: false };
    const h = harness(B, C, 'none', null, new TestRng(3));
    const { t, o } = build(h, new Float32Array(C).fill(1));
    t.a.set([0, 1, 0, 1, 1e-30, 0.5], o.pred);
    const tOff = t.allocF(Float32Array.of(1, 0, 0, 1, 1, 0.5));
    bceForward(t.a, o.out, o.rows, o.pred, tOff, -1, B, C, attrs);
    // + 0 folds -0 into 0 (x = 1, t = 1 gives -(0 + 0 * -100) = -0)
    expect(Array.from(t.read(o.rows, C), (v) => v + 0)).toEqual([100, 100, 0, 0, Math.fround(-Math.log(1e-30)), Math.fround(Math.LN2)]);
    expect(t.a[o.out]).toBe(Math.fround(200 + -Math.log(1e-30) + Math.LN2));
    bceBackward(t.a, o.dpred, o.pred, tOff, -1, o.gOut, B, C, attrs);
    expect(Array.from(t.read(o.dpred, C))).toEqual([-1e12, 1e12, 0, 0, Math.fround((1e-30 - 1) / 1e-12), 0].map(Math.fround));
  });
  it('checkBceProbabilities finds inputs outside [0, 1] and NaN; such inputs give NaN loss', () => {
    const a = Float32Array.of(9, 0, 0.5, 1, 9);
    expect(checkBceProbabilities(a, 1, 3)).toBe(-1);
    expect(checkBceProbabilities(a, 0, 3)).toBe(0);
    a[3] = 1.5;
    expect(checkBceProbabilities(a, 1, 3)).toBe(2);
    a[3] = NaN;
    expect(checkBceProbabilities(a, 1, 3)).toBe(2);
    const h = harness(1, 2, 'sum', null, new TestRng(4));
    const { t, o } = build(h, Float32Array.of(1));
    t.a.set([1.5, 0.5], o.pred);
    const tOff = t.allocF(Float32Array.of(0, 1));
    bceForward(t.a, o.out, o.rows, o.pred, tOff, -1, 1, 2, { reduction: 'sum', hasWeight: false });
    expect(Number.isNaN(t.a[o.out]!)).toBe(true);
  });
  it('validation throws EdgennError ARG / SHAPE', () => {
    const code = (f: () => void): string | undefined => {
      try { f(); } catch (e) { return isEdgennError(e) ? e.code : 'other'; }
      return undefined;
    };
    expect(code(() => bceCheck(2, 3, { reduction: 'none', hasWeight: true, weightShape: 'BC' }))).toBeUndefined();
    expect(code(() => bceCheck(2, 3, { reduction: 'none', hasWeight: true, weightShape: 'x' as WeightShape }))).toBe('ARG');
    expect(code(() => bceCheck(2, 3, { reduction: 'batchmean' as BasicReduction, hasWeight: false }))).toBe('ARG');
    expect(code(() => bceCheck(2, 0, { reduction: 'sum', hasWeight: false }))).toBe('SHAPE');
  });
});
