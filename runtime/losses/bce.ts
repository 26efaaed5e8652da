// Binary cross-entropy on probabilities, torch.nn.functional.binary_cross_entropy (1.13):
//   l = -w * (t * max(log(x), -100) + (1 - t) * max(log(1 - x), -100))
// elementwise over x [B,C] in [0,1] and t [B,C]; weight w [C] | [B] | [B,C] per attrs.weightShape;
// mean divides by N = B*C. The backward is PyTorch's: g * w * (x - t) / max(x * (1 - x), 1e-12),
// which is not the derivative of the clamped forward where the clamp bites (x within ~e-100 of
// 0 or 1) but is what PyTorch trains with. Prefer bce-with-logits: it is stable for any logit.
// PyTorch throws when an input is outside [0, 1]; kernels do not throw, so such elements give NaN
// and checkBceProbabilities finds them. No scratch.
import type { ErrorContext } from '../errors.js';
import { BASIC_REDUCTIONS, checkFlag, checkLossDims, checkReduction, checkWeightShape } from './checks.js';
import { weightColStride, weightRowStride, type BceAttrs, type LossRef, type WeightShape } from './types.js';

const LOG_FLOOR = -100;     // PyTorch clamps each log term to >= -100 (so log(0) is finite)
const DENOM_FLOOR = 1e-12;  // PyTorch's EPSILON in binary_cross_entropy_backward

export function validateBceAttrs(attrs: BceAttrs, ctx: ErrorContext = {}): void {
  checkReduction('binary_cross_entropy', attrs.reduction, BASIC_REDUCTIONS, ctx);
  checkFlag('binary_cross_entropy', 'hasWeight', attrs.hasWeight, ctx);
  checkWeightShape('binary_cross_entropy', attrs.weightShape, ctx);
}

export function bceCheck(B: number, C: number, attrs: BceAttrs, ctx: ErrorContext = {}): void {
  validateBceAttrs(attrs, ctx);
  checkLossDims('binary_cross_entropy', B, C, ctx);
}

/** bce needs no scratch. */
export function bceScratchFloats(_B: number, _C: number, _attrs: BceAttrs): number {
  return 0;
}

/** First k in [0, n) with a[pred + k] outside [0, 1] (or NaN), else -1. Does not throw. */
export function checkBceProbabilities(a: Float32Array, pred: number, n: number): number {
  for (let k = 0; k < n; k++) {
    const x = a[pred + k]!;
    if (!(x >= 0 && x <= 1)) return k;
  }
  return -1;
}

/** out: scalar loss (sum for 'none'); rows [B,C] per-element loss; pred, target [B,C]; weight or -1. */
export function bceForward(a: Float32Array, out: number, rows: number, pred: number, target: number,
                           weight: number, B: number, C: number, attrs: BceAttrs): void {
  const wr = weightRowStride(C, attrs.weightShape), wc = weightColStride(attrs.weightShape);
  let total = 0;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < C; j++) {
      const k = i * C + j;
      const x = a[pred + k]!, t = a[target + k]!;
      // Math.max(NaN, -100) is NaN, like PyTorch's clamp: an input outside [0,1] is not hidden.
      let l = -(t * Math.max(Math.log(x), LOG_FLOOR) + (1 - t) * Math.max(Math.log1p(-x), LOG_FLOOR));
      if (weight >= 0) l *= a[weight + i * wr + j * wc]!;
      a[rows + k] = l;
      total += l;
    }
  }
  a[out] = attrs.reduction === 'mean' ? total / (B * C) : total;
}

/** dpred [B,C] += g * w * (x - t) / max(x(1-x), 1e-12); gOut scalar, or [B,C] for 'none'. */
export function bceBackward(a: Float32Array, dpred: number, pred: number, target: number, weight: number,
                            gOut: number, B: number, C: number, attrs: BceAttrs): void {
  const wr = weightRowStride(C, attrs.weightShape), wc = weightColStride(attrs.weightShape);
  const none = attrs.reduction === 'none';
  const g0 = none ? 0 : attrs.reduction === 'mean' ? a[gOut]! / (B * C) : a[gOut]!;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < C; j++) {
      const k = i * C + j;
      const x = a[pred + k]!, t = a[target + k]!;
      let d = (x - t) / Math.max((1 - x) * x, DENOM_FLOOR);
      if (weight >= 0) d *= a[weight + i * wr + j * wc]!;
      a[dpred + k] += d * (none ? a[gOut + k]! : g0);
    }
  }
}

// reference twins (float64, tests only). weight is given in its own shape (attrs.weightShape).

function weightAt(weight: ArrayLike<number> | null, shape: WeightShape | undefined,
                  i: number, j: number, C: number): number {
  if (weight === null) return 1;
  return weight[shape === 'B' ? i : shape === 'BC' ? i * C + j : j]!;
}

export function bceForwardRef(pred: ArrayLike<number>, target: ArrayLike<number>,
                              weight: ArrayLike<number> | null, B: number, C: number,
                              attrs: BceAttrs): LossRef {
  const rows = new Float64Array(B * C);
  let total = 0;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < C; j++) {
      const k = i * C + j, x = pred[k]!, t = target[k]!;
      const logx = Math.max(Math.log(x), -100), log1mx = Math.max(Math.log(1 - x), -100);
      rows[k] = -weightAt(weight, attrs.weightShape, i, j, C) * (t * logx + (1 - t) * log1mx);
      total += rows[k]!;
    }
  }
  return { loss: attrs.reduction === 'mean' ? total / (B * C) : total, rows };
}

/** PyTorch's backward formula (see the header), in float64. */
export function bceBackwardRef(pred: ArrayLike<number>, target: ArrayLike<number>,
                               weight: ArrayLike<number> | null, gOut: number | ArrayLike<number>,
                               B: number, C: number, attrs: BceAttrs): Float64Array {
  const d = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < C; j++) {
      const k = i * C + j, x = pred[k]!, t = target[k]!;
      const g = typeof gOut === 'number' ? (attrs.reduction === 'mean' ? gOut / (B * C) : gOut) : gOut[k]!;
      // -t/x + (1-t)/(1-x) = (x - t) / (x (1 - x))
      d[k] = weightAt(weight, attrs.weightShape, i, j, C) * g * (x - t) / Math.max(x * (1 - x), 1e-12);
    }
  }
  return d;
}
