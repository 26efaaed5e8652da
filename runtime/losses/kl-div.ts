// Kullback-Leibler divergence, torch.nn.functional.kl_div (PyTorch 1.13), input = log-probs:
//   logTarget false:  l = xlogy(t, t) - t * x      (0 * log 0 := 0)
//   logTarget true:   l = exp(t) * (t - x)
// elementwise over input x [B,C] and target t [B,C]; reduction 'mean' divides by N = B*C,
// 'batchmean' by B (the true KL divergence per sample). The gradient is w.r.t. the input
// log-probabilities: -t (or -exp(t)) times the upstream gradient; compose with log-softmax for
// logits. For t >= 0 and finite x this equals the older where(t > 0, t*(log t - x), 0) form; a
// negative probability target gives NaN (xlogy), which the older form silently zeroed.
// No scratch.
import type { ErrorContext } from '../errors.js';
import { KL_REDUCTIONS, checkFlag, checkLossDims, checkReduction } from './checks.js';
import type { KlDivAttrs, LossRef } from './types.js';

export function validateKlDivAttrs(attrs: KlDivAttrs, ctx: ErrorContext = {}): void {
  checkReduction('kl_div', attrs.reduction, KL_REDUCTIONS, ctx);
  checkFlag('kl_div', 'logTarget', attrs.logTarget, ctx);
}

export function klDivCheck(B: number, C: number, attrs: KlDivAttrs, ctx: ErrorContext = {}): void {
  validateKlDivAttrs(attrs, ctx);
  checkLossDims('kl_div', B, C, ctx);
}

/** kl_div needs no scratch. */
export function klDivScratchFloats(_B: number, _C: number, _attrs: KlDivAttrs): number {
  return 0;
}

function divisor(B: number, C: number, attrs: KlDivAttrs): number {
  return attrs.reduction === 'mean' ? B * C : attrs.reduction === 'batchmean' ? B : 1;
}

/** out: scalar loss (sum for 'none'); rows [B,C] per-element terms; input, target [B,C]. */
export function klDivForward(a: Float32Array, out: number, rows: number, input: number, target: number,
                             B: number, C: number, attrs: KlDivAttrs): void {
  const N = B * C, logT = attrs.logTarget;
  let total = 0;
  for (let k = 0; k < N; k++) {
    const x = a[input + k]!, t = a[target + k]!;
    // NOTE: t === 0 must give 0, not 0 * log(0) = NaN; a NaN t stays NaN (NaN === 0 is false).
    const l = logT ? Math.exp(t) * (t - x) : (t === 0 ? 0 : t * Math.log(t)) - t * x;
    a[rows + k] = l;
    total += l;
  }
  a[out] = total / divisor(B, C, attrs);
}

/** dinput [B,C] += -t * g (or -exp(t) * g); gOut scalar, or [B,C] for 'none'. */
export function klDivBackward(a: Float32Array, dinput: number, input: number, target: number, gOut: number,
                              B: number, C: number, attrs: KlDivAttrs): void {
  const N = B * C, logT = attrs.logTarget, none = attrs.reduction === 'none';
  const g0 = none ? 0 : a[gOut]! / divisor(B, C, attrs);
  for (let k = 0; k < N; k++) {
    const t = a[target + k]!;
    a[dinput + k] -= (logT ? Math.exp(t) : t) * (none ? a[gOut + k]! : g0);
  }
}

// reference twins (float64, tests only)

export function klDivForwardRef(input: ArrayLike<number>, target: ArrayLike<number>,
                                B: number, C: number, attrs: KlDivAttrs): LossRef {
  const rows = new Float64Array(B * C);
  let total = 0;
  for (let k = 0; k < B * C; k++) {
    const x = input[k]!, t = target[k]!;
    if (attrs.logTarget) rows[k] = Math.exp(t) * (t - x);
    else rows[k] = (t > 0 ? t * Math.log(t) : t === 0 ? 0 : NaN) - t * x;
    total += rows[k]!;
  }
  const n = attrs.reduction === 'mean' ? B * C : attrs.reduction === 'batchmean' ? B : 1;
  return { loss: total / n, rows };
}

export function klDivBackwardRef(input: ArrayLike<number>, target: ArrayLike<number>,
                                 gOut: number | ArrayLike<number>, B: number, C: number,
                                 attrs: KlDivAttrs): Float64Array {
  const n = attrs.reduction === 'mean' ? B * C : attrs.reduction === 'batchmean' ? B : 1;
  const d = new Float64Array(B * C);
  for (let k = 0; k < B * C; k++) {
    const t = target[k]!;
    const g = typeof gOut === 'number' ? gOut / n : gOut[k]!;
    d[k] = -(attrs.logTarget ? Math.exp(t) : t) * g;
  }
  return d;
}
