// kl_div kernel over log-probability inputs: reference twin (4 reductions x log_target),
// finite differences, accumulation, 0*log0 and negative targets, validation.
// PyTorch fixtures (through log_softmax) are in fixtures.test.ts.
import { describe, expect, it } from 'vitest';
import {
  klDivBackward, klDivBackwardRef, klDivCheck, klDivForward, klDivForwardRef, klDivScratchFloats,
} from '../../../runtime/losses/kl-div.js';
import type { KlDivAttrs, Reduction } from '../../../runtime/losses/types.js';
import { isEdgennError } from '../../../runtime/errors.js';
import { build, checkAccumulates, checkFd, checkTwin, TestRng, type LossHarness } from './harness.js';

const BS = [1, 3, 17];
const CS = [1, 2, 5, 33];
const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none', 'batchmean'];

// Twin: same formula in float64 on both sides from the same float32 inputs; outputs rounded once
// to float32 (2^-24 relative of each value).
const LOSS_TOL = { abs: 1e-12, rel: 2e-7 };
const GRAD_TOL = { abs: 1e-12, rel: 2e-7 };
// Finite differences: the loss is linear in the input, so no truncation error; float64
// cancellation (|f| * 1e-16 / h < 1e-10) and float32 rounding remain.
const FD_TOL = { abs: 1e-8, rel: 1e-6 };

function logSoftmaxRows(B: number, C: number, rng: TestRng): Float32Array {
  const out = new Float32Array(B * C);
  for (let i = 0; i < B; i++) {
    const z = Array.from({ length: C }, () => rng.normal() * 1.5);
    const m = Math.max(...z), lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    for (let j = 0; j < C; j++) out[i * C + j] = z[j]! - lse;
  }
  return out;
}

function harness(B: number, C: number, reduction: Reduction, logTarget: boolean, rng: TestRng): LossHarness {
  const attrs: KlDivAttrs = { reduction, logTarget };
  const pred = logSoftmaxRows(B, C, rng);
  let target: Float32Array;
  if (logTarget) target = logSoftmaxRows(B, C, rng);
  else {
    target = logSoftmaxRows(B, C, rng).map(Math.exp);
    for (let k = 2; k < B * C; k += 5) target[k] = 0; // exact zeros: 0 * log 0 := 0
  }
  let tOff = -1;
  return {
    label: `kl_div B=${B} C=${C} ${reduction} logTarget=${logTarget}`,
    B, C, none: reduction === 'none', rowsLen: B * C, scratchLen: klDivScratchFloats(B, C, attrs), pred,
    placeInputs(t) { tOff = t.allocF(target); },
    forward(t, o) { klDivForward(t.a, o.out, o.rows, o.pred, tOff, B, C, attrs); },
    backward(t, o) { klDivBackward(t.a, o.dpred, o.pred, tOff, o.gOut, B, C, attrs); },
    refForward: (x) => klDivForwardRef(x, target, B, C, attrs),
    refBackward: (x, g) => klDivBackwardRef(x, target, g, B, C, attrs),
  };
}

function* combos(B: number, C: number, rng: TestRng): Generator<LossHarness> {
  for (const r of REDUCTIONS) for (const lt of [false, true]) yield harness(B, C, r, lt, rng);
}

describe.each(BS.flatMap((B) => CS.map((C) => [B, C] as const)))('kl_div B=%i C=%i', (B, C) => {
  it('kernel matches the float64 twin for every option combination', () => {
    const rng = new TestRng(400 + B * 100 + C);
    for (const h of combos(B, C, rng)) checkTwin(h, rng, LOSS_TOL, GRAD_TOL);
  });
  it('gradient matches central differences of the twin', () => {
    const rng = new TestRng(500 + B * 100 + C);
    for (const h of combos(B, C, rng)) checkFd(h, rng, FD_TOL);
  });
  it('backward accumulates', () => {
    const rng = new TestRng(600 + B * 100 + C);
    for (const h of combos(B, C, rng)) checkAccumulates(h, rng);
  });
});

describe('kl_div special values and checks', () => {
  it('target 0 contributes 0 (0 * log 0 := 0), a negative target gives NaN', () => {
    const h = harness(1, 4, 'none', false, new TestRng(1));
    const { t, o } = build(h, new Float32Array(4).fill(1));
    t.a.set([-1, -2, -3, -4], o.pred);
    const tOff = t.allocF(Float32Array.of(0, 0.5, -0.1, 0.5));
    const attrs: KlDivAttrs = { reduction: 'none', logTarget: false };
    klDivForward(t.a, o.out, o.rows, o.pred, tOff, 1, 4, attrs);
    const rows = t.read(o.rows, 4);
    expect(rows[0]).toBe(0);
    expect(rows[1]).toBe(Math.fround(0.5 * Math.log(0.5) + 0.5 * 2));
    expect(Number.isNaN(rows[2]!)).toBe(true); // xlogy(-0.1, -0.1) = NaN, as PyTorch 1.13
    klDivBackward(t.a, o.dpred, o.pred, tOff, o.gOut, 1, 4, attrs);
    expect(Array.from(t.read(o.dpred, 4), (v) => v + 0)).toEqual([0, -0.5, Math.fround(0.1), -0.5]);
  });
  it('batchmean divides by B, mean by B*C', () => {
    const B = 3, C = 4;
    const sums: Record<string, number> = {};
    for (const r of REDUCTIONS) {
      const h = harness(B, C, r, true, new TestRng(3));
      const { t, o } = build(h, Float32Array.of(1));
      h.forward(t, o);
      sums[r] = t.a[o.out]!;
    }
    expect(sums['batchmean']).toBeCloseTo(sums['sum']! / B, 6);
    expect(sums['mean']).toBeCloseTo(sums['sum']! / (B * C), 6);
    expect(sums['none']).toBe(sums['sum']);
  });
  it('validation throws EdgennError ARG / SHAPE', () => {
    const code = (f: () => void): string | undefined => {
      try { f(); } catch (e) { return isEdgennError(e) ? e.code : 'other'; }
      return undefined;
    };
    expect(code(() => klDivCheck(2, 3, { reduction: 'batchmean', logTarget: true }))).toBeUndefined();
    expect(code(() => klDivCheck(2, 3, { reduction: 'avg' as Reduction, logTarget: true }))).toBe('ARG');
    expect(code(() => klDivCheck(2, 3, { reduction: 'sum', logTarget: 'no' as unknown as boolean }))).toBe('ARG');
    expect(code(() => klDivCheck(2, 2.5, { reduction: 'sum', logTarget: false }))).toBe('SHAPE');
  });
});
