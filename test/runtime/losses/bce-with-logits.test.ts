// binary_cross_entropy_with_logits kernel: reference twin (every weight shape x pos_weight x
// reduction), finite differences, accumulation, extreme logits, validation.
// PyTorch fixtures are in fixtures.test.ts.
import { describe, expect, it } from 'vitest';
import {
  bceWithLogitsBackward, bceWithLogitsBackwardRef, bceWithLogitsCheck, bceWithLogitsForward,
  bceWithLogitsForwardRef, bceWithLogitsScratchFloats,
} from '../../../runtime/losses/bce-with-logits.js';
import { weightFloats, type BasicReduction, type BceWithLogitsAttrs, type WeightShape } from '../../../runtime/losses/types.js';
import { isEdgennError } from '../../../runtime/errors.js';
import { build, checkAccumulates, checkFd, checkTwin, TestRng, type LossHarness } from './harness.js';

const BS = [1, 3, 17];
const CS = [1, 2, 5, 33];
const REDUCTIONS: readonly BasicReduction[] = ['mean', 'sum', 'none'];
const WEIGHTS: readonly (WeightShape | null)[] = [null, 'C', 'B', 'BC'];

// Twin: both sides are float64 from the same float32 inputs (the kernel's sign-split formula and
// the twin's log-sigmoid form are both free of cancellation); the kernel rounds outputs to
// float32 once (2^-24 relative).
const LOSS_TOL = { abs: 1e-12, rel: 2e-7 };
const GRAD_TOL = { abs: 1e-12, rel: 2e-7 };
// Finite differences (h = 1e-3): truncation h^2/6 * |d3f|, |d3 softplus| <= 0.1, times pos_weight
// (<= 2), weight (<= 1.5), |g| (<= ~3): < 2e-7; plus float32 rounding of the kernel.
const FD_TOL = { abs: 1e-6, rel: 1e-5 };

function harness(B: number, C: number, reduction: BasicReduction, ws: WeightShape | null, hasPw: boolean,
                 rng: TestRng, logits?: Float32Array): LossHarness {
  const attrs: BceWithLogitsAttrs = {
    reduction, hasWeight: ws !== null, hasPosWeight: hasPw, ...(ws !== null ? { weightShape: ws } : {}),
  };
  const pred = logits ?? rng.f32(B * C, () => rng.normal() * 3);
  // hard labels and soft ones (0.3, 0.75, random)
  const target = rng.f32(B * C, () => { const u = rng.next(); return u < 0.35 ? 0 : u < 0.7 ? 1 : u < 0.8 ? 0.3 : u < 0.9 ? 0.75 : rng.next(); });
  const weight = ws === null ? null : rng.f32(weightFloats(B, C, ws), () => rng.uniform(0.5, 1.5));
  const posWeight = hasPw ? rng.f32(C, () => rng.uniform(0.5, 2)) : null;
  let tOff = -1, wOff = -1, pwOff = -1;
  return {
    label: `bce-with-logits B=${B} C=${C} ${reduction} w=${ws} pw=${hasPw}`,
    B, C, none: reduction === 'none', rowsLen: B * C, scratchLen: bceWithLogitsScratchFloats(B, C, attrs), pred,
    placeInputs(t) {
      tOff = t.allocF(target);
      wOff = weight === null ? -1 : t.allocF(weight);
      pwOff = posWeight === null ? -1 : t.allocF(posWeight);
    },
    forward(t, o) { bceWithLogitsForward(t.a, o.out, o.rows, o.pred, tOff, wOff, pwOff, B, C, attrs); },
    backward(t, o) { bceWithLogitsBackward(t.a, o.dpred, o.pred, tOff, wOff, pwOff, o.gOut, B, C, attrs); },
    refForward: (x) => bceWithLogitsForwardRef(x, target, weight, posWeight, B, C, attrs),
    refBackward: (x, g) => bceWithLogitsBackwardRef(x, target, weight, posWeight, g, B, C, attrs),
  };
}

function* combos(B: number, C: number, rng: TestRng): Generator<LossHarness> {
  for (const r of REDUCTIONS) for (const ws of WEIGHTS) for (const pw of [false, true]) yield harness(B, C, r, ws, pw, rng);
}

describe.each(BS.flatMap((B) => CS.map((C) => [B, C] as const)))('bce-with-logits B=%i C=%i', (B, C) => {
  it('kernel matches the float64 twin for every option combination', () => {
    const rng = new TestRng(40 + B * 100 + C);
    for (const h of combos(B, C, rng)) checkTwin(h, rng, LOSS_TOL, GRAD_TOL);
  });
  it('gradient matches central differences of the twin', () => {
    const rng = new TestRng(50 + B * 100 + C);
    for (const h of combos(B, C, rng)) checkFd(h, rng, FD_TOL);
  });
  it('backward accumulates', () => {
    const rng = new TestRng(60 + B * 100 + C);
    for (const h of combos(B, C, rng)) checkAccumulates(h, rng);
  });
});

describe('bce-with-logits numerics and checks', () => {
  it('is exact and finite for logits of +-50, +-1e4 and 0', () => {
    const B = 2, C = 5;
    const logits = Float32Array.of(50, -50, 1e4, -1e4, 0, -20, 20, -1e4, 1e4, 0);
    for (const r of REDUCTIONS) for (const pw of [false, true]) {
      checkTwin(harness(B, C, r, 'C', pw, new TestRng(8), logits), new TestRng(9), LOSS_TOL, GRAD_TOL);
    }
    // closed forms, no weights: t=0 at x gives softplus(x); t=1 gives softplus(-x)
    const attrs: BceWithLogitsAttrs = { reduction: 'none', hasWeight: false, hasPosWeight: false };
    const h = harness(B, C, 'none', null, false, new TestRng(10), logits);
    const { t, o } = build(h, new Float32Array(B * C).fill(1));
    const tgt = Float32Array.of(0, 1, 0, 1, 0, 0, 1, 0, 1, 1);
    const tOff = t.allocF(tgt);
    bceWithLogitsForward(t.a, o.out, o.rows, o.pred, tOff, -1, -1, B, C, attrs);
    const sp = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    for (let k = 0; k < B * C; k++) {
      const want = tgt[k] === 0 ? sp(logits[k]!) : sp(-logits[k]!);
      // float32 storage: 2^-24 relative (want down to 2e-9 at x = -20, t = 0: no cancellation)
      expect(Math.abs(t.a[o.rows + k]! - want), `k=${k}`).toBeLessThanOrEqual(want * 2 ** -24 + 1e-30);
    }
    bceWithLogitsBackward(t.a, o.dpred, o.pred, tOff, -1, -1, o.gOut, B, C, attrs);
    for (const v of t.read(o.dpred, B * C)) expect(Number.isFinite(v)).toBe(true);
  });
  it('validation throws EdgennError ARG / SHAPE', () => {
    const code = (f: () => void): string | undefined => {
      try { f(); } catch (e) { return isEdgennError(e) ? e.code : 'other'; }
      return undefined;
    };
    const ok: BceWithLogitsAttrs = { reduction: 'mean', hasWeight: true, weightShape: 'B', hasPosWeight: true };
    expect(code(() => bceWithLogitsCheck(2, 3, ok))).toBeUndefined();
    expect(code(() => bceWithLogitsCheck(2, 3, { ...ok, weightShape: 'CB' as WeightShape }))).toBe('ARG');
    expect(code(() => bceWithLogitsCheck(2, 3, { ...ok, hasPosWeight: undefined as unknown as boolean }))).toBe('ARG');
    expect(code(() => bceWithLogitsCheck(2, 3, { ...ok, reduction: 'batchmean' as BasicReduction }))).toBe('ARG');
    expect(code(() => bceWithLogitsCheck(-2, 3, ok))).toBe('SHAPE');
  });
});
