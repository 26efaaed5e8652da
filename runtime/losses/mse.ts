// Mean squared error, torch.nn.functional.mse_loss (PyTorch 1.13): elementwise (x - y)^2 over
// pred [B,C] and target [B,C] (N = B*C elements; any shape flattens to [B,C]); mean divides by N.
// No broadcasting between pred and target (PyTorch warns and broadcasts; we require equal shapes).
// No scratch.
import type { ErrorContext } from '../errors.js';
import { BASIC_REDUCTIONS, checkLossDims, checkReduction } from './checks.js';
import type { LossRef, MseAttrs } from './types.js';

export function validateMseAttrs(attrs: MseAttrs, ctx: ErrorContext = {}): void {
  checkReduction('mse_loss', attrs.reduction, BASIC_REDUCTIONS, ctx);
}

export function mseCheck(B: number, C: number, attrs: MseAttrs, ctx: ErrorContext = {}): void {
  validateMseAttrs(attrs, ctx);
  checkLossDims('mse_loss', B, C, ctx);
}

/** mse needs no scratch. */
export function mseScratchFloats(_B: number, _C: number, _attrs: MseAttrs): number {
  return 0;
}

/** out: scalar loss (sum for 'none'); rows [B,C]: per-element loss (the output for 'none'). */
export function mseForward(a: Float32Array, out: number, rows: number, pred: number, target: number,
                           B: number, C: number, attrs: MseAttrs): void {
  const N = B * C;
  let total = 0;
  for (let k = 0; k < N; k++) {
    const d = a[pred + k]! - a[target + k]!;
    a[rows + k] = d * d;
    total += d * d;
  }
  a[out] = attrs.reduction === 'mean' ? total / N : total;
}

/** dpred [B,C] += 2 (x - y) g; gOut scalar, or [B,C] for 'none'. */
export function mseBackward(a: Float32Array, dpred: number, pred: number, target: number, gOut: number,
                            B: number, C: number, attrs: MseAttrs): void {
  const N = B * C, none = attrs.reduction === 'none';
  const g0 = none ? 0 : attrs.reduction === 'mean' ? a[gOut]! / N : a[gOut]!;
  for (let k = 0; k < N; k++) {
    const g = none ? a[gOut + k]! : g0;
    a[dpred + k] += 2 * (a[pred + k]! - a[target + k]!) * g;
  }
}

// reference twins (float64, tests only)

export function mseForwardRef(pred: ArrayLike<number>, target: ArrayLike<number>,
                              B: number, C: number, attrs: MseAttrs): LossRef {
  const rows = new Float64Array(B * C);
  let total = 0;
  for (let k = 0; k < B * C; k++) { rows[k] = (pred[k]! - target[k]!) ** 2; total += rows[k]!; }
  return { loss: attrs.reduction === 'mean' ? total / (B * C) : total, rows };
}

export function mseBackwardRef(pred: ArrayLike<number>, target: ArrayLike<number>,
                               gOut: number | ArrayLike<number>, B: number, C: number,
                               attrs: MseAttrs): Float64Array {
  const d = new Float64Array(B * C);
  for (let k = 0; k < B * C; k++) {
    const g = typeof gOut === 'number' ? (attrs.reduction === 'mean' ? gOut / (B * C) : gOut) : gOut[k]!;
    d[k] = 2 * (pred[k]! - target[k]!) * g;
  }
  return d;
}
