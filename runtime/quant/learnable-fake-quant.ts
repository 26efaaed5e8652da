// Learnable fake quantization (LSQ, Esser et al. 2020) with PyTorch's CPU kernels:
// torch._fake_quantize_learnable_per_tensor_affine / _per_channel_affine and their backward.
// Scale and zero point are float parameters (C floats each, in the arena, with gradients).
// Not here: the fixed-qparams fake-quant (fake-quant.ts) and the observer that may initialise
// scale / zero point before learning starts (observers.ts; PyTorch's static_enabled phase).
//
// Layout as fake-quant.ts: x, y, dx, dy are (outer, C, inner); scale, zeroPoint, dscale,
// dzeroPoint are (C). Per-tensor is outer = 1, C = 1, inner = n.
//
// Forward: zp_f = clamp(nearbyint(zero_point), qmin, qmax); y = fake_quantize(x, scale, zp_f)
//          (x * float32(1/scale), round half to even, as fake-quant.ts 'torch').
// Backward, per element (float32 arithmetic, as the CPU kernel):
//   q' = nearbyint(zp_b + x * inv_scale)        NOTE: zp added BEFORE rounding, unlike the forward
//   inside (qmin <= q' <= qmax): dx += g,  dscale_i = g * (xfq - x) * inv_scale,  dzp_i = 0
//          with xfq = (q' - zp_b) * scale
//   below (q' < qmin):           dx += 0,  dscale_i = g * (qmin - zp_b),  dzp_i = -g * scale
//   above (q' > qmax):           dx += 0,  dscale_i = g * (qmax - zp_b),  dzp_i = -g * scale
//   dscale += grad_factor * sum_i dscale_i, dzero_point += grad_factor * sum_i dzp_i
// NOTE: how zp_b is rounded differs between the two PyTorch ops:
//   per-tensor  (_get_zero_point_from_tensor(.., is_forward=false)): zp_b = int(clamp(zp + 0.5f))
//               i.e. half-up then truncation toward zero: 2.5 -> 3 (forward: 2), -0.7 -> 0
//               (forward: -1), so forward and backward can disagree on the zero point itself;
//   per-channel (_get_rounded_zero_point): zp_b = clamp(round_half_even(zp)), as the forward.
// With an odd zp, x at an exact half-step rounds differently in forward and backward
// (the reference cases list them as forward_backward_tie_mismatch). We reproduce both quirks.
// NOTE: sums are carried in doubles and rounded to float32 on store; PyTorch sums float32 terms
// with its own (vectorised, cascaded) order, so dscale / dzero_point agree to ~1e-6 relative.
import { roundHalfEven, RHE } from './fake-quant.js';

/** PyTorch's LSQ gradient scaling (use_grad_scaling=True): 1 / sqrt(numel * qmax). */
export function lsqGradFactor(numel: number, qmax: number): number {
  return 1 / Math.sqrt(numel * qmax);
}

/** What _LearnableFakeQuantize does before each learnable step: scale = max(scale, eps). */
export function lsqClampScale(a: Float32Array, scale: number, C: number, eps: number): void {
  const e = Math.fround(eps);
  for (let c = 0; c < C; c++) if (!(a[scale + c]! >= e)) a[scale + c] = e;
}


export function lsqForward(a: Float32Array, y: number, x: number, scale: number, zeroPoint: number,
                           outer: number, C: number, inner: number, qmin: number, qmax: number): void {
  for (let c = 0; c < C; c++) {
    const s = a[scale + c]!;
    let zp = a[zeroPoint + c]! + RHE - RHE;
    zp = zp < qmin ? qmin : zp > qmax ? qmax : zp;
    const inv = Math.fround(1 / s);
    for (let o = 0; o < outer; o++) {
      const base = (o * C + c) * inner;
      for (let i = 0; i < inner; i++) {
        let q = Math.fround(a[x + base + i]! * inv) + RHE - RHE + zp;
        q = q < qmin ? qmin : q > qmax ? qmax : q;
        a[y + base + i] = (q - zp) * s;
      }
    }
  }
}

const GRAD_FACTOR = new Float64Array(1);

function lsqBackwardImpl(a: Float32Array, dx: number, dscale: number, dzeroPoint: number, dy: number, x: number,
                         scale: number, zeroPoint: number, outer: number, C: number, inner: number,
                         qmin: number, qmax: number, gradFactor: number, perTensor: boolean): void {
  GRAD_FACTOR[0] = gradFactor;
  lsqBackwardP(a, dx, dscale, dzeroPoint, dy, x, scale, zeroPoint, outer, C, inner, qmin, qmax, GRAD_FACTOR, perTensor);
}

/** Both backward ops with grad_factor in p[0] (the graph op's form: a double argument to a call
 *  V8 does not inline is boxed; a Float64Array element is not). perTensor selects the zero-point
 *  rounding of the per-tensor op. */
export function lsqBackwardP(a: Float32Array, dx: number, dscale: number, dzeroPoint: number, dy: number, x: number,
                             scale: number, zeroPoint: number, outer: number, C: number, inner: number,
                             qmin: number, qmax: number, p: Float64Array, perTensor: boolean): void {
  const gf = Math.fround(p[0]!);
  for (let c = 0; c < C; c++) {
    const s = a[scale + c]!;
    const inv = Math.fround(1 / s);
    // NOTE: `| 0` truncates toward zero (C's int cast) and keeps zp an int32 for V8: a variable
    // mixing Math.fround and plain double results gets boxed on every call.
    const zraw = a[zeroPoint + c]!;
    const zr = perTensor ? Math.fround(zraw + 0.5) : Math.fround(zraw + RHE - RHE);
    const zp = Math.max(qmin, Math.min(qmax, zr)) | 0;
    const small = qmin - zp, big = qmax - zp;
    let sumS = 0, sumZ = 0;
    for (let o = 0; o < outer; o++) {
      const base = (o * C + c) * inner;
      for (let i = 0; i < inner; i++) {
        const xv = a[x + base + i]!, g = a[dy + base + i]!;
        const q = Math.fround(zp + Math.fround(xv * inv)) + RHE - RHE;
        if (q < qmin || q > qmax) {
          sumZ += Math.fround(Math.fround(-g * s) * gf);
          sumS += Math.fround(Math.fround(g * (q < qmin ? small : big)) * gf);
        } else {
          if (dx >= 0) a[dx + base + i] += g;
          const xfq = Math.fround((q - zp) * s);
          sumS += Math.fround(Math.fround(Math.fround(g * Math.fround(xfq - xv)) * inv) * gf);
        }
      }
    }
    if (dscale >= 0) a[dscale + c] += sumS;
    if (dzeroPoint >= 0) a[dzeroPoint + c] += sumZ;
  }
}

/** torch._fake_quantize_learnable_per_tensor_affine backward (C = 1 over n elements).
 *  dx, dscale, dzeroPoint may each be -1 (not needed); all accumulate (+=). */
export function lsqPerTensorBackward(a: Float32Array, dx: number, dscale: number, dzeroPoint: number, dy: number,
                                     x: number, scale: number, zeroPoint: number, n: number,
                                     qmin: number, qmax: number, gradFactor: number): void {
  lsqBackwardImpl(a, dx, dscale, dzeroPoint, dy, x, scale, zeroPoint, 1, 1, n, qmin, qmax, gradFactor, true);
}

/** torch._fake_quantize_learnable_per_channel_affine backward over (outer, C, inner). */
export function lsqPerChannelBackward(a: Float32Array, dx: number, dscale: number, dzeroPoint: number, dy: number,
                                      x: number, scale: number, zeroPoint: number,
                                      outer: number, C: number, inner: number,
                                      qmin: number, qmax: number, gradFactor: number): void {
  lsqBackwardImpl(a, dx, dscale, dzeroPoint, dy, x, scale, zeroPoint, outer, C, inner, qmin, qmax, gradFactor, false);
}

/** Naive twin of the forward, from the flat index. */
export function lsqForwardRef(a: Float32Array, y: number, x: number, scale: number, zeroPoint: number,
                              outer: number, C: number, inner: number, qmin: number, qmax: number): void {
  for (let k = 0; k < outer * C * inner; k++) {
    const c = Math.floor(k / inner) % C;
    const s = a[scale + c]!, zp = Math.min(Math.max(roundHalfEven(a[zeroPoint + c]!), qmin), qmax);
    const q = Math.min(Math.max(roundHalfEven(Math.fround(a[x + k]! * Math.fround(1 / s))) + zp, qmin), qmax);
    a[y + k] = Math.fround((q - zp) * s);
  }
}

/** Naive twin of both backward ops (perTensor selects the zero-point rounding): channel by
 *  channel, elements found by flat index, the same summation order as the fast kernel. */
export function lsqBackwardRef(a: Float32Array, dx: number, dscale: number, dzeroPoint: number, dy: number,
                               x: number, scale: number, zeroPoint: number, outer: number, C: number, inner: number,
                               qmin: number, qmax: number, gradFactor: number, perTensor: boolean): void {
  const gf = Math.fround(gradFactor);
  for (let c = 0; c < C; c++) {
    const s = a[scale + c]!, inv = Math.fround(1 / s), z = a[zeroPoint + c]!;
    const zp = perTensor ? Math.trunc(Math.min(Math.max(Math.fround(z + 0.5), qmin), qmax))
      : Math.min(Math.max(roundHalfEven(z), qmin), qmax);
    let sumS = 0, sumZ = 0;
    for (let k = 0; k < outer * C * inner; k++) {
      if (Math.floor(k / inner) % C !== c) continue;
      const xv = a[x + k]!, g = a[dy + k]!;
      const q = roundHalfEven(Math.fround(zp + Math.fround(xv * inv)));
      const inside = qmin <= q && q <= qmax;
      if (inside && dx >= 0) a[dx + k] += g;
      const ds = inside ? Math.fround(Math.fround(g * Math.fround(Math.fround((q - zp) * s) - xv)) * inv)
        : Math.fround(g * (q < qmin ? qmin - zp : qmax - zp));
      sumS += Math.fround(ds * gf);
      if (!inside) sumZ += Math.fround(Math.fround(-g * s) * gf);
    }
    if (dscale >= 0) a[dscale + c] += sumS;
    if (dzeroPoint >= 0) a[dzeroPoint + c] += sumZ;
  }
}
