// Binary cross-entropy on logits, torch.nn.functional.binary_cross_entropy_with_logits (1.13):
//   l = -w * (pw * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x)))
// elementwise over logits x [B,C] and targets t [B,C] (soft targets in [0,1] allowed);
// pos_weight pw [C] broadcast over rows; weight w [C] | [B] | [B,C] per attrs.weightShape; mean
// divides by N = B*C. Gradient: w * ((1 - t) * sigmoid(x) - pw * t * sigmoid(-x)).
// Not here: probabilities as input (bce.ts), multi-dimensional broadcasting beyond these shapes.
// No scratch.
import type { ErrorContext } from '../errors.js';
import { BASIC_REDUCTIONS, checkFlag, checkLossDims, checkReduction, checkWeightShape } from './checks.js';
import { weightColStride, weightRowStride, type BceWithLogitsAttrs, type LossRef, type WeightShape } from './types.js';

export function validateBceWithLogitsAttrs(attrs: BceWithLogitsAttrs, ctx: ErrorContext = {}): void {
  checkReduction('binary_cross_entropy_with_logits', attrs.reduction, BASIC_REDUCTIONS, ctx);
  checkFlag('binary_cross_entropy_with_logits', 'hasWeight', attrs.hasWeight, ctx);
  checkWeightShape('binary_cross_entropy_with_logits', attrs.weightShape, ctx);
  checkFlag('binary_cross_entropy_with_logits', 'hasPosWeight', attrs.hasPosWeight, ctx);
}

export function bceWithLogitsCheck(B: number, C: number, attrs: BceWithLogitsAttrs,
                                   ctx: ErrorContext = {}): void {
  validateBceWithLogitsAttrs(attrs, ctx);
  checkLossDims('binary_cross_entropy_with_logits', B, C, ctx);
}

/** bce_with_logits needs no scratch. */
export function bceWithLogitsScratchFloats(_B: number, _C: number, _attrs: BceWithLogitsAttrs): number {
  return 0;
}

function sigmoid(x: number): number {
  // NOTE: 1/(1+exp(-x)) overflows exp for x << 0; take exp of a non-positive number only.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * out: scalar loss (sum for 'none'); rows [B,C] per-element loss (the output for 'none');
 * logits [B,C]; target [B,C]; weight (per weightShape) or -1; posWeight [C] or -1.
 */
export function bceWithLogitsForward(a: Float32Array, out: number, rows: number, logits: number,
                                     target: number, weight: number, posWeight: number,
                                     B: number, C: number, attrs: BceWithLogitsAttrs): void {
  const wr = weightRowStride(C, attrs.weightShape), wc = weightColStride(attrs.weightShape);
  let total = 0;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < C; j++) {
      const k = i * C + j;
      const x = a[logits + k]!, t = a[target + k]!;
      const pw = posWeight < 0 ? 1 : a[posWeight + j]!;
      // softplus(-|x|) = log1p(exp(-|x|)): never overflows.
      const L = Math.log1p(Math.exp(-Math.abs(x)));
      // NOTE: PyTorch's (1-t)*x + (1+(pw-1)t)*(max(-x,0) + L) cancels two large terms for
      // x << 0 (x = -20, t = 0: -20 + 20.000000002). Split by sign, every term is >= 0:
      //   x >= 0: (1-t)*x + lw*L      x < 0: -pw*t*x + lw*L      with lw = 1 + (pw-1)*t
      const lw = 1 + (pw - 1) * t;
      let l = (x >= 0 ? (1 - t) * x : -pw * t * x) + lw * L;
      if (weight >= 0) l *= a[weight + i * wr + j * wc]!;
      a[rows + k] = l;
      total += l;
    }
  }
  a[out] = attrs.reduction === 'mean' ? total / (B * C) : total;
}

/** dlogits [B,C] += dloss/dlogits; gOut scalar, or [B,C] for 'none'. */
export function bceWithLogitsBackward(a: Float32Array, dlogits: number, logits: number, target: number,
                                      weight: number, posWeight: number, gOut: number,
                                      B: number, C: number, attrs: BceWithLogitsAttrs): void {
  const wr = weightRowStride(C, attrs.weightShape), wc = weightColStride(attrs.weightShape);
  const none = attrs.reduction === 'none';
  const g0 = none ? 0 : attrs.reduction === 'mean' ? a[gOut]! / (B * C) : a[gOut]!;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < C; j++) {
      const k = i * C + j;
      const x = a[logits + k]!, t = a[target + k]!;
      const pw = posWeight < 0 ? 1 : a[posWeight + j]!;
      // (pw*t + 1 - t)*sigmoid(x) - pw*t, written with sigmoid(-x) = 1 - sigmoid(x) so that
      // neither term cancels when sigmoid(x) rounds to 1.
      let d = (1 - t) * sigmoid(x) - pw * t * sigmoid(-x);
      if (weight >= 0) d *= a[weight + i * wr + j * wc]!;
      a[dlogits + k] += d * (none ? a[gOut + k]! : g0);
    }
  }
}

// reference twins (float64, tests only). weight is given in its own shape (attrs.weightShape).

function logSigmoidRef(x: number): number {
  // log(sigmoid(x)) = -log(1 + exp(-x)), evaluated without overflow for either sign.
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

function weightAt(weight: ArrayLike<number> | null, shape: WeightShape | undefined,
                  i: number, j: number, C: number): number {
  if (weight === null) return 1;
  return weight[shape === 'B' ? i : shape === 'BC' ? i * C + j : j]!;
}

export function bceWithLogitsForwardRef(logits: ArrayLike<number>, target: ArrayLike<number>,
                                        weight: ArrayLike<number> | null, posWeight: ArrayLike<number> | null,
                                        B: number, C: number, attrs: BceWithLogitsAttrs): LossRef {
  const rows = new Float64Array(B * C);
  let total = 0;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < C; j++) {
      const k = i * C + j, x = logits[k]!, t = target[k]!;
      const pw = posWeight === null ? 1 : posWeight[j]!;
      rows[k] = -weightAt(weight, attrs.weightShape, i, j, C)
        * (pw * t * logSigmoidRef(x) + (1 - t) * logSigmoidRef(-x));
      total += rows[k]!;
    }
  }
  return { loss: attrs.reduction === 'mean' ? total / (B * C) : total, rows };
}

export function bceWithLogitsBackwardRef(logits: ArrayLike<number>, target: ArrayLike<number>,
                                         weight: ArrayLike<number> | null, posWeight: ArrayLike<number> | null,
                                         gOut: number | ArrayLike<number>, B: number, C: number,
                                         attrs: BceWithLogitsAttrs): Float64Array {
  const d = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < C; j++) {
      const k = i * C + j, x = logits[k]!, t = target[k]!;
      const pw = posWeight === null ? 1 : posWeight[j]!;
      const g = typeof gOut === 'number' ? (attrs.reduction === 'mean' ? gOut / (B * C) : gOut) : gOut[k]!;
      // d/dx log(sigmoid(x)) = 1 - sigmoid(x) = sigmoid(-x); d/dx log(sigmoid(-x)) = -sigmoid(x)
      const s = Math.exp(logSigmoidRef(x)), sm = Math.exp(logSigmoidRef(-x));
      d[k] = -weightAt(weight, attrs.weightShape, i, j, C) * (pw * t * sm - (1 - t) * s) * g;
    }
  }
  return d;
}
