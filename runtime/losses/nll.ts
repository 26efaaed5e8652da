// Negative log-likelihood over log-probabilities, torch.nn.functional.nll_loss (PyTorch 1.13):
//   row_i = -w[t_i] * logp[i, t_i]   (0 when t_i === ignoreIndex)
//   mean = sum_i row_i / W,  W = sum of w[t_i] over non-ignored rows (NaN if all are ignored)
// The gradient is w.r.t. the input log-probabilities; compose with runtime/ops log-softmax for
// logits (or use cross-entropy, which fuses both). Not here: spatial inputs [B,C,d1,...].
// B rows, C classes. logp [B,C] float32 in `a`; target int32 [B] in `ia` (same buffer); weight [C]
// or -1. No scratch.
import type { ErrorContext } from '../errors.js';
import { BASIC_REDUCTIONS, checkFlag, checkIgnoreIndex, checkLossDims, checkReduction } from './checks.js';
import type { LossRef, NllAttrs } from './types.js';

export function validateNllAttrs(attrs: NllAttrs, ctx: ErrorContext = {}): void {
  checkReduction('nll_loss', attrs.reduction, BASIC_REDUCTIONS, ctx);
  checkIgnoreIndex('nll_loss', attrs.ignoreIndex, ctx);
  checkFlag('nll_loss', 'hasWeight', attrs.hasWeight, ctx);
}

export function nllCheck(B: number, C: number, attrs: NllAttrs, ctx: ErrorContext = {}): void {
  validateNllAttrs(attrs, ctx);
  checkLossDims('nll_loss', B, C, ctx);
}

/** nll needs no scratch. */
export function nllScratchFloats(_B: number, _C: number, _attrs: NllAttrs): number {
  return 0;
}

/**
 * out: scalar loss (sum of rows for 'none'); rows [B] per-row loss (the output for 'none').
 * A target outside [0, C) that is not ignoreIndex gives a NaN row and loss.
 */
export function nllForward(a: Float32Array, ia: Int32Array, out: number, rows: number,
                           logp: number, target: number, weight: number,
                           B: number, C: number, attrs: NllAttrs): void {
  const ignore = attrs.ignoreIndex;
  let total = 0, W = 0;
  for (let i = 0; i < B; i++) {
    const t = ia[target + i]!;
    if (t === ignore) { a[rows + i] = 0; continue; }
    if (t < 0 || t >= C) { a[rows + i] = NaN; total = NaN; continue; }
    const wt = weight < 0 ? 1 : a[weight + t]!;
    const r = -wt * a[logp + i * C + t]!;
    a[rows + i] = r;
    total += r;
    W += wt;
  }
  a[out] = attrs.reduction === 'mean' ? total / W : total;
}

/** dlogp [B,C] += dloss/dlogp: only the target entry of each non-ignored row, -w[t]*g. */
export function nllBackward(a: Float32Array, ia: Int32Array, dlogp: number, logp: number,
                            target: number, weight: number, gOut: number,
                            B: number, C: number, attrs: NllAttrs): void {
  const ignore = attrs.ignoreIndex, none = attrs.reduction === 'none';
  let g0 = none ? 0 : a[gOut]!;
  if (attrs.reduction === 'mean') {
    let W = 0;
    for (let i = 0; i < B; i++) {
      const t = ia[target + i]!;
      if (t !== ignore && t >= 0 && t < C) W += weight < 0 ? 1 : a[weight + t]!;
    }
    g0 /= W;
  }
  for (let i = 0; i < B; i++) {
    const t = ia[target + i]!;
    if (t === ignore || t < 0 || t >= C) continue;
    const g = none ? a[gOut + i]! : g0;
    a[dlogp + i * C + t] += -(weight < 0 ? 1 : a[weight + t]!) * g;
  }
}

// reference twins (float64, tests only)

export function nllForwardRef(logp: ArrayLike<number>, target: ArrayLike<number>,
                              weight: ArrayLike<number> | null, B: number, C: number,
                              attrs: NllAttrs): LossRef {
  const rows = new Float64Array(B);
  let total = 0, W = 0;
  for (let i = 0; i < B; i++) {
    const t = target[i]!;
    if (t === attrs.ignoreIndex) continue;
    if (t < 0 || t >= C) { rows[i] = NaN; total = NaN; continue; }
    const w = weight === null ? 1 : weight[t]!;
    rows[i] = -w * logp[i * C + t]!;
    total += rows[i]!;
    W += w;
  }
  return { loss: attrs.reduction === 'mean' ? total / W : total, rows };
}

export function nllBackwardRef(logp: ArrayLike<number>, target: ArrayLike<number>,
                               weight: ArrayLike<number> | null, gOut: number | ArrayLike<number>,
                               B: number, C: number, attrs: NllAttrs): Float64Array {
  const valid = (t: number): boolean => t !== attrs.ignoreIndex && t >= 0 && t < C;
  let W = 0;
  for (let i = 0; i < B; i++) if (valid(target[i]!)) W += weight === null ? 1 : weight[target[i]!]!;
  const d = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    const t = target[i]!;
    if (!valid(t)) continue;
    const g = typeof gOut === 'number' ? (attrs.reduction === 'mean' ? gOut / W : gOut) : gOut[i]!;
    d[i * C + t] = -(weight === null ? 1 : weight[t]!) * g;
  }
  return d;
}
