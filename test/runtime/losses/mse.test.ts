// mse_loss kernel: reference twin, finite differences, accumulation, validation.
// PyTorch fixtures are in fixtures.test.ts.
import { describe, expect, it } from 'vitest';
import { mseBackward, mseBackwardRef, mseCheck, mseForward, mseForwardRef, mseScratchFloats } from '../../../runtime/losses/mse.js';
import type { BasicReduction, MseAttrs } from '../../../runtime/losses/types.js';
import { isEdgennError } from '../../../runtime/errors.js';
import { checkAccumulates, checkFd, checkTwin, TestRng, type LossHarness } from './harness.js';

const BS = [1, 3, 17];
const CS = [1, 2, 5, 33];
const REDUCTIONS: readonly BasicReduction[] = ['mean', 'sum', 'none'];

// Twin: same float32 inputs, float64 arithmetic on both sides; the kernel rounds each output
// once to float32 (2^-24 relative).
const LOSS_TOL = { abs: 1e-12, rel: 2e-7 };
const GRAD_TOL = { abs: 1e-12, rel: 2e-7 };
// Finite differences: the loss is quadratic, so central differences are exact up to float64
// cancellation (|f| * 1e-16 / h < 1e-9 here) and the kernel's float32 rounding.
const FD_TOL = { abs: 1e-8, rel: 1e-6 };

function harness(B: number, C: number, reduction: BasicReduction, rng: TestRng): LossHarness {
  const attrs: MseAttrs = { reduction };
  const pred = rng.f32(B * C, () => rng.normal() * 2);
  const target = rng.f32(B * C, () => rng.normal());
  let tOff = -1;
  return {
    label: `mse B=${B} C=${C} ${reduction}`,
    B, C, none: reduction === 'none', rowsLen: B * C, scratchLen: mseScratchFloats(B, C, attrs), pred,
    placeInputs(t) { tOff = t.allocF(target); },
    forward(t, o) { mseForward(t.a, o.out, o.rows, o.pred, tOff, B, C, attrs); },
    backward(t, o) { mseBackward(t.a, o.dpred, o.pred, tOff, o.gOut, B, C, attrs); },
    refForward: (x) => mseForwardRef(x, target, B, C, attrs),
    refBackward: (x, g) => mseBackwardRef(x, target, g, B, C, attrs),
  };
}

describe.each(BS.flatMap((B) => CS.map((C) => [B, C] as const)))('mse B=%i C=%i', (B, C) => {
  it('kernel matches the float64 twin (mean, sum, none)', () => {
    const rng = new TestRng(10 + B * 100 + C);
    for (const r of REDUCTIONS) checkTwin(harness(B, C, r, rng), rng, LOSS_TOL, GRAD_TOL);
  });
  it('gradient matches central differences of the twin', () => {
    const rng = new TestRng(20 + B * 100 + C);
    for (const r of REDUCTIONS) checkFd(harness(B, C, r, rng), rng, FD_TOL);
  });
  it('backward accumulates', () => {
    const rng = new TestRng(30 + B * 100 + C);
    for (const r of REDUCTIONS) checkAccumulates(harness(B, C, r, rng), rng);
  });
});

describe('mse checks', () => {
  it('validation throws EdgennError ARG / SHAPE', () => {
    const code = (f: () => void): string | undefined => {
      try { f(); } catch (e) { return isEdgennError(e) ? e.code : 'other'; }
      return undefined;
    };
    expect(code(() => mseCheck(2, 3, { reduction: 'mean' }))).toBeUndefined();
    expect(code(() => mseCheck(2, 3, { reduction: 'batchmean' as BasicReduction }))).toBe('ARG');
    expect(code(() => mseCheck(2, 3, { reduction: 'elementwise_mean' as BasicReduction }))).toBe('ARG');
    expect(code(() => mseCheck(2, NaN, { reduction: 'sum' }))).toBe('SHAPE');
  });
});
