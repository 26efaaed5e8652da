// Softmax cross-entropy over logits, torch.nn.functional.cross_entropy (PyTorch 1.13) semantics,
// for the two target kinds PyTorch accepts:
//   class indices   crossEntropyForward/Backward:       target int32 [B], ignore_index, weight [C],
//                                                        label_smoothing, reduction mean|sum|none
//   probabilities   crossEntropyProbForward/Backward:   target float [B,C], weight [C],
//                                                        label_smoothing, reduction mean|sum|none
// Not here: spatial inputs [B,C,d1,...] (only [B,C]); the standalone log_softmax op (runtime/ops).
// B rows (batch), C classes. All offsets are element indices into `a` (float32 arena) or `ia`
// (an Int32Array over the same buffer). Optional buffers are offsets, -1 meaning absent.
//
// Index targets (eps = labelSmoothing, w = weight or 1, W = sum of w[t_i] over non-ignored rows):
//   row_i = (1-eps) * w[t_i] * -logp[i,t_i] + eps/C * sum_c w[c] * -logp[i,c]   (0 if ignored)
//   mean = sum_i row_i / W   (PyTorch's weighted mean; NaN when every row is ignored, as PyTorch)
// Probability targets (q = target*(1-eps) + eps/C):
//   row_i = -sum_c w[c] * q[i,c] * logp[i,c];   mean = sum_i row_i / B   (B, not the weights)
// The forward computes log-softmax itself (max-subtracted, in float64) and caches logp [B,C] in
// scratch for the backward, so the planner must keep that scratch alive from forward to backward.
import type { ErrorContext } from '../errors.js';
import {
  BASIC_REDUCTIONS, checkFlag, checkIgnoreIndex, checkLabelSmoothing, checkLossDims, checkReduction,
} from './checks.js';
import type { CrossEntropyAttrs, CrossEntropyProbAttrs, LossRef } from './types.js';

// ---------------------------------------------------------------------------------------------
// plan time

export function validateCrossEntropyAttrs(attrs: CrossEntropyAttrs, ctx: ErrorContext = {}): void {
  checkReduction('cross_entropy', attrs.reduction, BASIC_REDUCTIONS, ctx);
  checkIgnoreIndex('cross_entropy', attrs.ignoreIndex, ctx);
  checkLabelSmoothing('cross_entropy', attrs.labelSmoothing, ctx);
  checkFlag('cross_entropy', 'hasWeight', attrs.hasWeight, ctx);
}

export function crossEntropyCheck(B: number, C: number, attrs: CrossEntropyAttrs,
                                  ctx: ErrorContext = {}): void {
  validateCrossEntropyAttrs(attrs, ctx);
  checkLossDims('cross_entropy', B, C, ctx);
}

/** Scratch: logp [B,C], written by the forward and read by the backward. */
export function crossEntropyScratchFloats(B: number, C: number, _attrs: CrossEntropyAttrs): number {
  return B * C;
}

export function validateCrossEntropyProbAttrs(attrs: CrossEntropyProbAttrs, ctx: ErrorContext = {}): void {
  checkReduction('cross_entropy (probability targets)', attrs.reduction, BASIC_REDUCTIONS, ctx);
  checkLabelSmoothing('cross_entropy (probability targets)', attrs.labelSmoothing, ctx);
  checkFlag('cross_entropy (probability targets)', 'hasWeight', attrs.hasWeight, ctx);
}

export function crossEntropyProbCheck(B: number, C: number, attrs: CrossEntropyProbAttrs,
                                      ctx: ErrorContext = {}): void {
  validateCrossEntropyProbAttrs(attrs, ctx);
  checkLossDims('cross_entropy (probability targets)', B, C, ctx);
}

/** Scratch: logp [B,C], written by the forward and read by the backward. */
export function crossEntropyProbScratchFloats(B: number, C: number, _attrs: CrossEntropyProbAttrs): number {
  return B * C;
}

// ---------------------------------------------------------------------------------------------
// shared: one row's log-softmax

/** Writes logp[j] = z[j] - lse for one row of C logits and returns lse (float64). */
function logSoftmaxRow(a: Float32Array, lp: number, z: number, C: number): number {
  // NOTE: subtract the row max before exp: exp(89) already overflows float32 and exp(710)
  // float64, and logits of 1e4 must still give exact log-probabilities.
  let m = -Infinity;
  for (let j = 0; j < C; j++) { const v = a[z + j]!; if (v > m) m = v; }
  let s = 0;
  for (let j = 0; j < C; j++) s += Math.exp(a[z + j]! - m);
  const lse = m + Math.log(s);
  for (let j = 0; j < C; j++) a[lp + j] = a[z + j]! - lse;
  return lse;
}

// ---------------------------------------------------------------------------------------------
// class-index targets

/**
 * out: scalar loss (for 'none' the sum of rows); rows [B]: per-row loss (the output for 'none');
 * logp [B,C] scratch (written); logits [B,C]; target int32 [B] in `ia`; weight [C] or -1.
 * out must not alias rows. A target outside [0, C) that is not ignoreIndex gives a NaN row and
 * loss (validate with checkClassTargets first).
 */
export function crossEntropyForward(a: Float32Array, ia: Int32Array, out: number, rows: number,
                                    logp: number, logits: number, target: number, weight: number,
                                    B: number, C: number, attrs: CrossEntropyAttrs): void {
  const eps = attrs.labelSmoothing, ignore = attrs.ignoreIndex;
  let total = 0, W = 0;
  for (let i = 0; i < B; i++) {
    const z = logits + i * C;
    // lse - z[j] is -logp[i,j] in float64 (the float32 cache is for the backward only).
    const lse = logSoftmaxRow(a, logp + i * C, z, C);
    const t = ia[target + i]!;
    if (t === ignore) { a[rows + i] = 0; continue; }
    if (t < 0 || t >= C) { a[rows + i] = NaN; total = NaN; continue; }
    const wt = weight < 0 ? 1 : a[weight + t]!;
    let r = (1 - eps) * wt * (lse - a[z + t]!);
    if (eps > 0) {
      let s = 0;
      for (let j = 0; j < C; j++) s += (weight < 0 ? 1 : a[weight + j]!) * (lse - a[z + j]!);
      r += (eps / C) * s;
    }
    a[rows + i] = r;
    total += r;
    W += wt;
  }
  a[out] = attrs.reduction === 'mean' ? total / W : total;
}

/**
 * dlogits [B,C] += dloss/dlogits. logp [B,C]: the forward's scratch. gOut: scalar upstream
 * gradient for mean/sum, [B] for 'none'. Ignored (and out-of-range) rows get no gradient.
 * `logits` is not read (logp carries everything); it stays in the signature so every loss
 * backward has the same argument order.
 *   d row_i / d z[i,j] = (1-eps)*w[t]*(p_j - [j=t]) + eps/C*(p_j*sum_c w[c] - w[j]),  p = exp(logp)
 */
export function crossEntropyBackward(a: Float32Array, ia: Int32Array, dlogits: number, logp: number,
                                     logits: number, target: number, weight: number, gOut: number,
                                     B: number, C: number, attrs: CrossEntropyAttrs): void {
  const eps = attrs.labelSmoothing, ignore = attrs.ignoreIndex, none = attrs.reduction === 'none';
  let g0 = none ? 0 : a[gOut]!;
  if (attrs.reduction === 'mean') {
    // W is recomputed (O(B)) rather than cached in float32: it must equal the forward's exactly.
    let W = 0;
    for (let i = 0; i < B; i++) {
      const t = ia[target + i]!;
      if (t !== ignore && t >= 0 && t < C) W += weight < 0 ? 1 : a[weight + t]!;
    }
    g0 /= W;
  }
  let wSum = C;
  if (weight >= 0 && eps > 0) { wSum = 0; for (let c = 0; c < C; c++) wSum += a[weight + c]!; }
  for (let i = 0; i < B; i++) {
    const t = ia[target + i]!;
    if (t === ignore || t < 0 || t >= C) continue;
    const g = none ? a[gOut + i]! : g0;
    const gt = g * (1 - eps) * (weight < 0 ? 1 : a[weight + t]!);
    const gs = g * eps / C;
    const lp = logp + i * C, d = dlogits + i * C;
    for (let j = 0; j < C; j++) {
      const p = Math.exp(a[lp + j]!);
      let v = gt * p;
      if (eps > 0) v += gs * (wSum * p - (weight < 0 ? 1 : a[weight + j]!));
      if (j === t) v -= gt;
      a[d + j] += v;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// probability targets

/**
 * out: scalar loss (for 'none' the sum of rows); rows [B]; logp [B,C] scratch (written);
 * logits [B,C]; target [B,C] class probabilities (float); weight [C] or -1.
 */
export function crossEntropyProbForward(a: Float32Array, out: number, rows: number, logp: number,
                                        logits: number, target: number, weight: number,
                                        B: number, C: number, attrs: CrossEntropyProbAttrs): void {
  const eps = attrs.labelSmoothing, keep = 1 - eps, spread = eps / C;
  let total = 0;
  for (let i = 0; i < B; i++) {
    const z = logits + i * C, q = target + i * C;
    const lse = logSoftmaxRow(a, logp + i * C, z, C);
    let r = 0;
    for (let j = 0; j < C; j++) {
      const w = weight < 0 ? 1 : a[weight + j]!;
      r += w * (a[q + j]! * keep + spread) * (lse - a[z + j]!);
    }
    a[rows + i] = r;
    total += r;
  }
  a[out] = attrs.reduction === 'mean' ? total / B : total;
}

/**
 * dlogits [B,C] += dloss/dlogits; logp [B,C] from the forward; gOut scalar or [B] ('none').
 * `logits` is not read (see crossEntropyBackward).
 *   d row_i / d z[i,j] = p_j * sum_c w[c]*q[i,c] - w[j]*q[i,j]
 */
export function crossEntropyProbBackward(a: Float32Array, dlogits: number, logp: number,
                                         logits: number, target: number, weight: number, gOut: number,
                                         B: number, C: number, attrs: CrossEntropyProbAttrs): void {
  const keep = 1 - attrs.labelSmoothing, spread = attrs.labelSmoothing / C;
  const none = attrs.reduction === 'none';
  const g0 = none ? 0 : attrs.reduction === 'mean' ? a[gOut]! / B : a[gOut]!;
  for (let i = 0; i < B; i++) {
    const g = none ? a[gOut + i]! : g0;
    const q = target + i * C, lp = logp + i * C, d = dlogits + i * C;
    let S = 0;
    for (let j = 0; j < C; j++) S += (weight < 0 ? 1 : a[weight + j]!) * (a[q + j]! * keep + spread);
    for (let j = 0; j < C; j++) {
      const wq = (weight < 0 ? 1 : a[weight + j]!) * (a[q + j]! * keep + spread);
      a[d + j] += g * (Math.exp(a[lp + j]!) * S - wq);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// reference twins: float64, straight from the definitions, allocate freely (tests only)

function refLogSoftmax(z: ArrayLike<number>, B: number, C: number): Float64Array {
  const lp = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, z[i * C + j]!);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(z[i * C + j]! - m);
    for (let j = 0; j < C; j++) lp[i * C + j] = z[i * C + j]! - m - Math.log(s);
  }
  return lp;
}

function refWeight(weight: ArrayLike<number> | null, c: number): number {
  return weight === null ? 1 : weight[c]!;
}

function refRowGrad(gOut: number | ArrayLike<number>, i: number, scale: number): number {
  return typeof gOut === 'number' ? gOut * scale : gOut[i]!;
}

/** Rows are ignored iff target === ignoreIndex; out-of-range targets give NaN, as the kernel. */
export function crossEntropyForwardRef(logits: ArrayLike<number>, target: ArrayLike<number>,
                                       weight: ArrayLike<number> | null, B: number, C: number,
                                       attrs: CrossEntropyAttrs): LossRef {
  const lp = refLogSoftmax(logits, B, C), eps = attrs.labelSmoothing;
  const rows = new Float64Array(B);
  let total = 0, W = 0;
  for (let i = 0; i < B; i++) {
    const t = target[i]!;
    if (t === attrs.ignoreIndex) continue;
    if (t < 0 || t >= C) { rows[i] = NaN; total = NaN; continue; }
    let smooth = 0;
    for (let c = 0; c < C; c++) smooth += refWeight(weight, c) * -lp[i * C + c]!;
    rows[i] = (1 - eps) * refWeight(weight, t) * -lp[i * C + t]! + (eps / C) * smooth;
    total += rows[i]!;
    W += refWeight(weight, t);
  }
  return { loss: attrs.reduction === 'mean' ? total / W : total, rows };
}

/** dloss/dlogits in float64 via the chain rule through log_softmax: dz = dlogp - p * sum(dlogp). */
export function crossEntropyBackwardRef(logits: ArrayLike<number>, target: ArrayLike<number>,
                                        weight: ArrayLike<number> | null, gOut: number | ArrayLike<number>,
                                        B: number, C: number, attrs: CrossEntropyAttrs): Float64Array {
  const lp = refLogSoftmax(logits, B, C), eps = attrs.labelSmoothing;
  let W = 0;
  for (let i = 0; i < B; i++) {
    const t = target[i]!;
    if (t !== attrs.ignoreIndex && t >= 0 && t < C) W += refWeight(weight, t);
  }
  const scale = attrs.reduction === 'mean' ? 1 / W : 1;
  const dz = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    const t = target[i]!;
    if (t === attrs.ignoreIndex || t < 0 || t >= C) continue;
    const g = refRowGrad(gOut, i, scale);
    const dlp = new Float64Array(C);
    for (let c = 0; c < C; c++) dlp[c] = -g * (eps / C) * refWeight(weight, c);
    dlp[t] += -g * (1 - eps) * refWeight(weight, t);
    let s = 0;
    for (let c = 0; c < C; c++) s += dlp[c]!;
    for (let j = 0; j < C; j++) dz[i * C + j] = dlp[j]! - Math.exp(lp[i * C + j]!) * s;
  }
  return dz;
}

export function crossEntropyProbForwardRef(logits: ArrayLike<number>, target: ArrayLike<number>,
                                           weight: ArrayLike<number> | null, B: number, C: number,
                                           attrs: CrossEntropyProbAttrs): LossRef {
  const lp = refLogSoftmax(logits, B, C), eps = attrs.labelSmoothing;
  const rows = new Float64Array(B);
  let total = 0;
  for (let i = 0; i < B; i++) {
    for (let c = 0; c < C; c++) {
      const q = target[i * C + c]! * (1 - eps) + eps / C;
      rows[i] -= refWeight(weight, c) * q * lp[i * C + c]!;
    }
    total += rows[i]!;
  }
  return { loss: attrs.reduction === 'mean' ? total / B : total, rows };
}

export function crossEntropyProbBackwardRef(logits: ArrayLike<number>, target: ArrayLike<number>,
                                            weight: ArrayLike<number> | null, gOut: number | ArrayLike<number>,
                                            B: number, C: number, attrs: CrossEntropyProbAttrs): Float64Array {
  const lp = refLogSoftmax(logits, B, C), eps = attrs.labelSmoothing;
  const scale = attrs.reduction === 'mean' ? 1 / B : 1;
  const dz = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    const g = refRowGrad(gOut, i, scale);
    const dlp = new Float64Array(C);
    let s = 0;
    for (let c = 0; c < C; c++) {
      dlp[c] = -g * refWeight(weight, c) * (target[i * C + c]! * (1 - eps) + eps / C);
      s += dlp[c]!;
    }
    for (let j = 0; j < C; j++) dz[i * C + j] = dlp[j]! - Math.exp(lp[i * C + j]!) * s;
  }
  return dz;
}
