// nll_loss kernel over log-probabilities: reference twin, finite differences, accumulation,
// ignored rows, plan-time validation. The PyTorch fixture (through log_softmax) is in
// fixtures.test.ts.
import { describe, expect, it } from 'vitest';
import {
  nllBackward, nllBackwardRef, nllCheck, nllForward, nllForwardRef, nllScratchFloats,
} from '../../../runtime/losses/nll.js';
import type { BasicReduction, NllAttrs } from '../../../runtime/losses/types.js';
import { isEdgennError } from '../../../runtime/errors.js';
import { build, checkAccumulates, checkFd, checkTwin, TestRng, type LossHarness } from './harness.js';

const BS = [1, 3, 17];
const CS = [1, 2, 5, 33];
const REDUCTIONS: readonly BasicReduction[] = ['mean', 'sum', 'none'];
const IGNORE_MODES = ['none', 'some', 'class1'] as const;

// Twin: the kernel reads the same float32 values and rounds each row, the loss and each
// gradient entry once to float32 (2^-24 relative); the sums are float64 on both sides.
const LOSS_TOL = { abs: 1e-9, rel: 2e-7 };
const GRAD_TOL = { abs: 1e-12, rel: 2e-7 };
// Finite differences: nll is linear in logp, so central differences have no truncation error;
// left are float64 cancellation (|f| * 1e-16 / h < 1e-10) and the kernel's float32 rounding.
const FD_TOL = { abs: 1e-8, rel: 1e-6 };

function harness(B: number, C: number, reduction: BasicReduction, hasWeight: boolean,
                 mode: typeof IGNORE_MODES[number], rng: TestRng): LossHarness {
  const attrs: NllAttrs = { reduction, ignoreIndex: mode === 'class1' ? 1 : -100, hasWeight };
  // realistic inputs: log_softmax of random logits
  const pred = new Float32Array(B * C);
  for (let i = 0; i < B; i++) {
    const z = Array.from({ length: C }, () => rng.normal() * 2);
    const m = Math.max(...z), lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    for (let j = 0; j < C; j++) pred[i * C + j] = z[j]! - lse;
  }
  const target = Int32Array.from({ length: B }, (_, i) => (mode === 'some' && i % 3 === 1 ? -100 : rng.int(C)));
  const weight = hasWeight ? rng.f32(C, () => rng.uniform(0.5, 1.5)) : null;
  let tOff = -1, wOff = -1;
  return {
    label: `nll B=${B} C=${C} ${reduction} w=${hasWeight} ignore=${mode}`,
    B, C, none: reduction === 'none', rowsLen: B, scratchLen: nllScratchFloats(B, C, attrs), pred,
    placeInputs(t) { tOff = t.allocI(target); wOff = weight === null ? -1 : t.allocF(weight); },
    forward(t, o) { nllForward(t.a, t.ia, o.out, o.rows, o.pred, tOff, wOff, B, C, attrs); },
    backward(t, o) { nllBackward(t.a, t.ia, o.dpred, o.pred, tOff, wOff, o.gOut, B, C, attrs); },
    refForward: (x) => nllForwardRef(x, target, weight, B, C, attrs),
    refBackward: (x, g) => nllBackwardRef(x, target, weight, g, B, C, attrs),
  };
}

function* combos(B: number, C: number, rng: TestRng): Generator<LossHarness> {
  for (const r of REDUCTIONS) for (const w of [false, true]) for (const m of IGNORE_MODES) yield harness(B, C, r, w, m, rng);
}

describe.each(BS.flatMap((B) => CS.map((C) => [B, C] as const)))('nll B=%i C=%i', (B, C) => {
  it('kernel matches the float64 twin for every option combination', () => {
    const rng = new TestRng(100 + B * 100 + C);
    for (const h of combos(B, C, rng)) checkTwin(h, rng, LOSS_TOL, GRAD_TOL);
  });
  it('gradient matches central differences of the twin', () => {
    const rng = new TestRng(200 + B * 100 + C);
    for (const h of combos(B, C, rng)) if (!Number.isNaN(h.refForward(h.pred).loss)) checkFd(h, rng, FD_TOL);
  });
  it('backward accumulates', () => {
    const rng = new TestRng(300 + B * 100 + C);
    for (const h of combos(B, C, rng)) checkAccumulates(h, rng);
  });
});

describe('nll edge rows and checks', () => {
  it('weighted mean divides by the summed weights of non-ignored rows only', () => {
    // rows: t=0 (w 2), ignored, t=1 (w 0.5): mean = (2*1 + 0.5*3) / 2.5
    const h = harness(3, 2, 'mean', true, 'none', new TestRng(5));
    const { t, o } = build(h, Float32Array.of(1));
    t.a.set([-1, -9, -9, -9, -9, -3], o.pred);
    const tOff = t.allocI(Int32Array.of(0, -100, 1)), wOff = t.allocF(Float32Array.of(2, 0.5));
    const attrs: NllAttrs = { reduction: 'mean', ignoreIndex: -100, hasWeight: true };
    nllForward(t.a, t.ia, o.out, o.rows, o.pred, tOff, wOff, 3, 2, attrs);
    expect(t.a[o.out]).toBe(Math.fround(3.5 / 2.5));
    nllBackward(t.a, t.ia, o.dpred, o.pred, tOff, wOff, o.gOut, 3, 2, attrs);
    expect(Array.from(t.read(o.dpred, 6))).toEqual([-2 / 2.5, 0, 0, 0, 0, -0.5 / 2.5].map(Math.fround));
  });
  it('all rows ignored: mean is NaN (PyTorch), sum 0, gradient 0', () => {
    for (const reduction of ['mean', 'sum'] as const) {
      const h = harness(2, 3, reduction, false, 'none', new TestRng(6));
      const { t, o } = build(h, Float32Array.of(1));
      const tOff = t.allocI(Int32Array.of(-100, -100));
      const attrs: NllAttrs = { reduction, ignoreIndex: -100, hasWeight: false };
      nllForward(t.a, t.ia, o.out, o.rows, o.pred, tOff, -1, 2, 3, attrs);
      if (reduction === 'mean') expect(Number.isNaN(t.a[o.out]!)).toBe(true); else expect(t.a[o.out]).toBe(0);
      nllBackward(t.a, t.ia, o.dpred, o.pred, tOff, -1, o.gOut, 2, 3, attrs);
      expect(Array.from(t.read(o.dpred, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });
  it('validation throws EdgennError ARG / SHAPE', () => {
    const code = (f: () => void): string | undefined => {
      try { f(); } catch (e) { return isEdgennError(e) ? e.code : 'other'; }
      return undefined;
    };
    const ok: NllAttrs = { reduction: 'sum', ignoreIndex: -100, hasWeight: false };
    expect(code(() => nllCheck(2, 3, ok))).toBeUndefined();
    expect(code(() => nllCheck(2, 3, { ...ok, reduction: 'batchmean' as BasicReduction }))).toBe('ARG');
    expect(code(() => nllCheck(2, 3, { ...ok, ignoreIndex: 0.5 }))).toBe('ARG');
    expect(code(() => nllCheck(2, 3, { ...ok, hasWeight: 1 as unknown as boolean }))).toBe('ARG');
    expect(code(() => nllCheck(0, 3, ok))).toBe('SHAPE');
  });
});
