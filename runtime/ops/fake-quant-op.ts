// Fake quantization as graph ops (quantization-aware training): the kernels of runtime/quant/
// (observers, qparams, fake-quant, LSQ) driven by a QAT control block in the arena, so the usual
// schedule (observe, then freeze the observer; fake-quantize from step N) runs without replanning.
// Not here: where fake-quant goes in a model (runtime/quant/qat.ts), int8 inference (int8-op.ts).
//
// Buffers (offsets into the arena's f32 / i32 views):
//   x, y, dx, dy  viewed as (outer, C, inner): C channels on the quantization axis (C = 1 per
//                 tensor); outer counts the batch for batched values
//   st (f32 [4C]) observer state and qparams: running min (C) | running max (C) | scale (C) |
//                 zero point (C, integers as floats) — the layout of observers.ts + 2C
//   ctl (i32 [4]) the graph's QAT control block: step (training steps done: backward passes) |
//                 observers on (0/1) | fake-quant on (0/1) | reserved
// A site observes while step < freezeAt and the observers are on, and fake-quantizes while
// step >= fqFrom and fake-quant is on; otherwise y = x and the gradient passes unchanged.
// LSQ (learnable) sites: scale and zero point are trainable parameters (sc, zp, C each); when the
// site has an observer (st >= 0) and observes, the observer's qparams overwrite the parameters
// (PyTorch _LearnableFakeQuantize with static_enabled), otherwise the scale is clamped to eps.
// p (Float64Array) holds double parameters: FakeQuant [averaging]; LSQ [averaging, eps, qmax,
// gradScaling 0/1] (a double passed to a kernel V8 does not inline would be boxed per call).
// NOTE: the LSQ per-tensor op rounds the zero point differently in forward and backward (see
// learnable-fake-quant.ts); the graph op inherits PyTorch's quirk.
import type { QScheme, QParamsRule } from '../quant/qparams.js';
import { qparamsPerChannelInto } from '../quant/qparams.js';
import { fakeQuantForward, fakeQuantBackward, fakeQuantForwardRef, type RoundingMode } from '../quant/fake-quant.js';
import { observerUpdateP, QAT_OBSERVE, QAT_FAKE_QUANT } from '../quant/observers.js';
import { lsqForward, lsqBackwardP } from '../quant/learnable-fake-quant.js';

/** Cells of the QAT control block. */
export const QAT_CTL_STEP = 0;
export const QAT_CTL_OBSERVE = 1;
export const QAT_CTL_FAKE_QUANT = 2;
export const QAT_CTL_CELLS = 4;
/** freezeAt meaning "never" */
export const QAT_NEVER = 2147483647;

/** QAT_OBSERVE | QAT_FAKE_QUANT bits of one site for the current step. */
export function qatSiteFlags(ia: Int32Array, ctl: number, freezeAt: number, fqFrom: number): number {
  const step = ia[ctl + QAT_CTL_STEP]!;
  return (ia[ctl + QAT_CTL_OBSERVE] !== 0 && step < freezeAt ? QAT_OBSERVE : 0) |
    (ia[ctl + QAT_CTL_FAKE_QUANT] !== 0 && step >= fqFrom ? QAT_FAKE_QUANT : 0);
}

export function fakeQuantOpForward(a: Float32Array, ia: Int32Array, y: number, x: number, st: number, ctl: number,
                                   outer: number, C: number, inner: number, kind: number, p: Float64Array,
                                   scheme: QScheme, rule: QParamsRule, mode: RoundingMode, freezeAt: number, fqFrom: number): void {
  const flags = qatSiteFlags(ia, ctl, freezeAt, fqFrom);
  if ((flags & QAT_OBSERVE) !== 0) {
    observerUpdateP(a, st, x, outer, C, inner, kind, p);
    qparamsPerChannelInto(a, st + 2 * C, st, C, scheme, rule);
  }
  if ((flags & QAT_FAKE_QUANT) !== 0) {
    fakeQuantForward(a, y, x, st + 2 * C, st + 3 * C, outer, C, inner, scheme.qmin, scheme.qmax, mode);
  } else if (y !== x) {
    const n = outer * C * inner;
    for (let i = 0; i < n; i++) a[y + i] = a[x + i]!;
  }
}

/** dx += STE(dy): where the site fake-quantized, the clipped straight-through estimator. */
export function fakeQuantOpBackward(a: Float32Array, ia: Int32Array, dx: number, dy: number, x: number, st: number, ctl: number,
                                    outer: number, C: number, inner: number, qmin: number, qmax: number, mode: RoundingMode,
                                    freezeAt: number, fqFrom: number): void {
  if ((qatSiteFlags(ia, ctl, freezeAt, fqFrom) & QAT_FAKE_QUANT) !== 0) {
    fakeQuantBackward(a, dx, dy, x, st + 2 * C, st + 3 * C, outer, C, inner, qmin, qmax, mode);
  } else {
    const n = outer * C * inner;
    for (let i = 0; i < n; i++) a[dx + i] += a[dy + i]!;
  }
}

/** Naive twin of the forward (flags computed the same way; the observer step through the kernels
 *  of observers.ts, the fake-quant through its reference twin). */
export function fakeQuantOpForwardRef(a: Float32Array, ia: Int32Array, y: number, x: number, st: number, ctl: number,
                                      outer: number, C: number, inner: number, kind: number, p: Float64Array,
                                      scheme: QScheme, rule: QParamsRule, mode: RoundingMode, freezeAt: number, fqFrom: number): void {
  const step = ia[ctl]!;
  if (ia[ctl + 1] !== 0 && step < freezeAt) {
    observerUpdateP(a, st, x, outer, C, inner, kind, p);
    qparamsPerChannelInto(a, st + 2 * C, st, C, scheme, rule);
  }
  if (ia[ctl + 2] !== 0 && step >= fqFrom) fakeQuantForwardRef(a, y, x, st + 2 * C, st + 3 * C, outer, C, inner, scheme.qmin, scheme.qmax, mode);
  else for (let i = 0; i < outer * C * inner; i++) a[y + i] = a[x + i]!;
}

// ---------------------------------------------------------------- LSQ (learnable scale / zero point)

export function lsqOpForward(a: Float32Array, ia: Int32Array, y: number, x: number, sc: number, zp: number, st: number, ctl: number,
                             outer: number, C: number, inner: number, kind: number, p: Float64Array,
                             scheme: QScheme, rule: QParamsRule, freezeAt: number, fqFrom: number): void {
  const flags = qatSiteFlags(ia, ctl, freezeAt, fqFrom);
  if (st >= 0 && (flags & QAT_OBSERVE) !== 0) {
    observerUpdateP(a, st, x, outer, C, inner, kind, p);
    qparamsPerChannelInto(a, st + 2 * C, st, C, scheme, rule);
    for (let c = 0; c < C; c++) { a[sc + c] = a[st + 2 * C + c]!; a[zp + c] = a[st + 3 * C + c]!; }
  } else {
    const eps = Math.fround(p[1]!);
    for (let c = 0; c < C; c++) if (!(a[sc + c]! >= eps)) a[sc + c] = eps;
  }
  if ((flags & QAT_FAKE_QUANT) !== 0) {
    // PyTorch zeroes the zero point of a symmetric scheme before every learnable step
    if (scheme.symmetric) for (let c = 0; c < C; c++) a[zp + c] = 0;
    lsqForward(a, y, x, sc, zp, outer, C, inner, scheme.qmin, scheme.qmax);
  } else if (y !== x) {
    const n = outer * C * inner;
    for (let i = 0; i < n; i++) a[y + i] = a[x + i]!;
  }
}

/** dx += LSQ gradient; dsc / dzp (-1 when not trained) += the scale / zero-point gradients.
 *  p[2] = qmax, p[3] = 1 for PyTorch's grad_factor 1/sqrt(numel * qmax) (numel of this batch);
 *  gf is a 1-element scratch the factor is written to. */
export function lsqOpBackward(a: Float32Array, ia: Int32Array, dx: number, dsc: number, dzp: number, dy: number, x: number,
                              sc: number, zp: number, ctl: number, outer: number, C: number, inner: number,
                              qmin: number, qmax: number, perTensor: boolean, p: Float64Array, gf: Float64Array,
                              freezeAt: number, fqFrom: number): void {
  if ((qatSiteFlags(ia, ctl, freezeAt, fqFrom) & QAT_FAKE_QUANT) !== 0) {
    gf[0] = p[3] === 1 ? 1 / Math.sqrt(outer * C * inner * p[2]!) : 1;
    lsqBackwardP(a, dx, dsc, dzp, dy, x, sc, zp, outer, C, inner, qmin, qmax, gf, perTensor);
  } else if (dx >= 0) {
    const n = outer * C * inner;
    for (let i = 0; i < n; i++) a[dx + i] += a[dy + i]!;
  }
}
