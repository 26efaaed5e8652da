// Quantization schemes (integer ranges) and the choice of scale / zero point from an observed
// range [min, max], exactly as PyTorch computes them. Plan-time helpers plus two allocation-free
// writers (qparamsInto, qparamsPerChannelInto) that observers call inside a training step.
// It is not a kernel file: nothing here touches tensors element by element.
//
// Two rules, because PyTorch itself has two (they differ in the last bits, and for symmetric
// int8 in more than that):
//   'observer' — torch/ao/quantization/observer.py `_calculate_qparams` (MinMaxObserver,
//                MovingAverage*, PerChannel*, and every FakeQuantize module that calls
//                calculate_qparams()). float32 tensor arithmetic:
//                  min_neg = min(min, 0), max_pos = max(max, 0)
//                  symmetric: scale = max(-min_neg, max_pos) / ((qmax - qmin) / 2), zp = 0 for
//                             signed, 128 for quint8 (floor((qmin + qmax) / 2) for a custom range)
//                  affine:    scale = (max_pos - min_neg) / (qmax - qmin),
//                             zp = clamp(qmin - round_half_even(min_neg / scale), qmin, qmax)
//                  scale = max(scale, eps) with eps = float32 epsilon by default.
//   'fused'    — C++ quant_utils::ChooseQuantizationParams, used by
//                torch.fused_moving_avg_obs_fake_quant (FusedMovingAvgObsFakeQuantize: the
//                default QAT qconfigs of fbgemm / qnnpack). Symmetric int8 uses
//                scale = max(|min|/128, |max|/127) (not amax/127.5), the scale is computed in
//                double and stored as float32 (0.1 if it is 0, raised to 6.1e-5 if smaller), and
//                the zero point comes from whichever end has the smaller rounding error, in double.
// NOTE: for the same running min/max the two rules give different scales for symmetric schemes
// (see the observer_fused_* reference cases): a model trained with the fused module must be
// converted with the 'fused' rule, or its int8 weights are off by up to one step.
import { EdgennError } from '../errors.js';
import { roundHalfEven } from './fake-quant.js';

/** torch.finfo(torch.float32).eps: the observers' default floor on the scale. */
export const FLOAT32_EPS = 2 ** -23;
/** C++ SMALL_SCALE_THRESHOLD (6.1e-5f, the fp16 normal minimum). */
export const SMALL_SCALE_THRESHOLD = Math.fround(6.1e-5);

export type QParamsRule = 'observer' | 'fused';

/** An integer grid: codes qmin..qmax stored as int8 (signed) or uint8. */
export interface QScheme {
  readonly bits: number;
  readonly signed: boolean;
  readonly qmin: number;
  readonly qmax: number;
  readonly symmetric: boolean;
  /** zero point the Python observer uses for a symmetric scheme (0 signed, 128 quint8, ...) */
  readonly symmetricZeroPoint: number;
  /** lower bound on the scale ('observer' rule only; the C++ rule has its own floors) */
  readonly eps: number;
}

export interface QSchemeOptions {
  /** 2..8, default 8 */
  readonly bits?: number;
  /** int8-style codes (default true) or uint8-style */
  readonly signed?: boolean;
  /** default: true for signed, false for unsigned */
  readonly symmetric?: boolean;
  /** signed only: -(2^(b-1) - 1)..2^(b-1) - 1, i.e. int8 -127..127 */
  readonly narrow?: boolean;
  /** halve the range as PyTorch's reduce_range (qmin // 2, qmax // 2: int8 -64..63, uint8 0..127) */
  readonly reduceRange?: boolean;
  /** explicit range (a "custom range" in PyTorch's terms); overrides bits/narrow */
  readonly qmin?: number;
  readonly qmax?: number;
  readonly eps?: number;
}

/** Builds and checks a scheme. Throws EdgennError('ARG') on an impossible range. */
export function quantScheme(o: QSchemeOptions = {}): QScheme {
  const bits = o.bits ?? 8;
  const signed = o.signed ?? true;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) {
    throw new EdgennError('ARG', 'quantization bit width must be an integer in 2..8', { expected: '2..8', actual: String(bits) });
  }
  if (o.narrow === true && !signed) {
    throw new EdgennError('ARG', 'a narrow range is defined for signed schemes only', { expected: 'signed: true', actual: 'signed: false' });
  }
  const custom = o.qmin !== undefined || o.qmax !== undefined || bits !== 8 || o.narrow === true;
  let qmin = o.qmin ?? (signed ? -(2 ** (bits - 1)) + (o.narrow === true ? 1 : 0) : 0);
  let qmax = o.qmax ?? (signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1);
  if (o.reduceRange === true) { qmin = Math.floor(qmin / 2); qmax = Math.floor(qmax / 2); }
  const lo = signed ? -128 : 0, hi = signed ? 127 : 255;
  if (!Number.isInteger(qmin) || !Number.isInteger(qmax) || qmin >= qmax || qmin < lo || qmax > hi) {
    throw new EdgennError('ARG', `quantization range must be integers with qmin < qmax inside ${signed ? 'int8' : 'uint8'}`,
      { expected: `${lo} <= qmin < qmax <= ${hi}`, actual: `qmin ${qmin}, qmax ${qmax}` });
  }
  const symmetric = o.symmetric ?? signed;
  // NOTE: PyTorch's quint8 symmetric zero point is 128 unless the range is custom, even with
  // reduce_range (0..127), where 128 lies outside the range; we keep its rule, not its bug-fix.
  const symmetricZeroPoint = signed ? 0 : custom ? Math.floor((qmin + qmax) / 2) : 128;
  const eps = o.eps ?? FLOAT32_EPS;
  if (!(eps > 0)) throw new EdgennError('ARG', 'eps must be positive', { actual: String(eps) });
  return { bits, signed, qmin, qmax, symmetric, symmetricZeroPoint, eps };
}

/** int8 -128..127, zero point 0 (PyTorch qint8 per_tensor/per_channel_symmetric). */
export const INT8_SYMMETRIC: QScheme = quantScheme({ signed: true, symmetric: true });
/** int8 -127..127, zero point 0 (TFLite / ONNX-runtime weight convention). */
export const INT8_NARROW_SYMMETRIC: QScheme = quantScheme({ signed: true, symmetric: true, narrow: true });
/** uint8 0..255 affine (PyTorch quint8 per_tensor_affine, the activation default). */
export const UINT8_AFFINE: QScheme = quantScheme({ signed: false, symmetric: false });
/** int8 -128..127 affine. */
export const INT8_AFFINE: QScheme = quantScheme({ signed: true, symmetric: false });

export interface QParams { readonly scale: number; readonly zeroPoint: number }

/**
 * Writes scale (float32) at a[scaleAt] and zero point (an integer, as a float) at a[zpAt] for
 * the range [a[minAt], a[maxAt]] (float32 values, as both PyTorch paths hold them). Allocation-
 * free: every value stays inside this call (a double passed to a function that V8 does not
 * inline is boxed on the heap). An empty range (min > max: nothing observed yet, the +inf/-inf
 * sentinels) gives scale 1, zero point 0 like PyTorch's observer; NaN gives NaN.
 */
export function qparamsInto(a: Float32Array, scaleAt: number, zpAt: number, minAt: number, maxAt: number,
                            s: QScheme, rule: QParamsRule): void {
  if (rule === 'observer') qparamsObserver(a, scaleAt, zpAt, minAt, maxAt, s);
  else qparamsFused(a, scaleAt, zpAt, minAt, maxAt, s);
}

/** False (after writing the fallback) when the range is empty or NaN. */
function rangeValid(a: Float32Array, scaleAt: number, zpAt: number, minAt: number, maxAt: number): boolean {
  const min = a[minAt]!, max = a[maxAt]!;
  if (min <= max) return true;
  const nan = min !== min || max !== max;
  a[scaleAt] = nan ? NaN : 1;
  a[zpAt] = nan ? NaN : 0;
  return false;
}

function qparamsObserver(a: Float32Array, scaleAt: number, zpAt: number, minAt: number, maxAt: number, s: QScheme): void {
  if (!rangeValid(a, scaleAt, zpAt, minAt, maxAt)) return;
  const min = a[minAt]!, max = a[maxAt]!;
  const qmin = s.qmin, qmax = s.qmax;
  const minNeg = min < 0 ? min : 0, maxPos = max > 0 ? max : 0;
  const eps = Math.fround(s.eps);
  if (s.symmetric) {
    const amax = -minNeg > maxPos ? -minNeg : maxPos;
    const scale = Math.fround(amax / Math.fround((qmax - qmin) / 2));
    a[scaleAt] = scale > eps ? scale : eps;
    a[zpAt] = s.symmetricZeroPoint;
    return;
  }
  const raw = Math.fround(Math.fround(maxPos - minNeg) / (qmax - qmin));
  const scale = raw > eps ? raw : eps;
  const zp = qmin - roundHalfEven(Math.fround(minNeg / scale));
  a[scaleAt] = scale;
  a[zpAt] = zp < qmin ? qmin : zp > qmax ? qmax : zp;
}

// quant_utils::ChooseQuantizationParams(min, max, qmin, qmax, preserve_sparsity = symmetric,
// force_scale_power_of_two = false, reduce_range = false); C `float` variables are rounded with
// Math.fround where C stores into one, `double` intermediates stay doubles.
function qparamsFused(a: Float32Array, scaleAt: number, zpAt: number, minAt: number, maxAt: number, s: QScheme): void {
  if (!rangeValid(a, scaleAt, zpAt, minAt, maxAt)) return;
  const qmin = s.qmin, qmax = s.qmax;
  let lo = a[minAt]!, hi = a[maxAt]!;
  const sparse = s.symmetric && lo < 0 && hi > 0;
  if (sparse) {
    const sqmin = -(Math.trunc((qmax - qmin) / 2) + 1), sqmax = Math.trunc((qmax - qmin) / 2);
    const fa = Math.abs(Math.fround(lo / sqmin)), fb = Math.abs(Math.fround(hi / sqmax));
    const maxScale = fa > fb ? fa : fb;
    lo = Math.fround(maxScale * sqmin);
    hi = Math.fround(maxScale * sqmax);
  }
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  let scale = (hi - lo) / (qmax - qmin); // double, as in C++
  if (Math.fround(scale) === 0 || Math.fround(1 / Math.fround(scale)) === Infinity) scale = 0.1;
  if (scale < SMALL_SCALE_THRESHOLD) {
    const amp = Math.fround(SMALL_SCALE_THRESHOLD / Math.fround(scale));
    if (lo === 0) hi = Math.fround(SMALL_SCALE_THRESHOLD * (qmax - qmin));
    else if (hi === 0) lo = Math.fround(-SMALL_SCALE_THRESHOLD * (qmax - qmin));
    else { lo = Math.fround(lo * amp); hi = Math.fround(hi * amp); }
    scale = SMALL_SCALE_THRESHOLD;
  }
  const errMin = Math.abs(qmin) - Math.abs(lo / scale), errMax = Math.abs(qmax) - Math.abs(hi / scale);
  // for symmetric with min < 0 < max the zero point is the middle of the range
  const z = s.symmetric && lo < 0 && hi > 0 ? (qmin + qmax) / 2
    : errMin < errMax ? qmin - lo / scale : qmax - hi / scale;
  a[scaleAt] = scale; // float32 store, as result.scale -> float
  a[zpAt] = z < qmin ? qmin : z > qmax ? qmax : roundHalfEven(z) + 0; // + 0: no -0 zero point
}

/** Per channel: mins/maxs at a[state], a[state + C]; writes scales at a[qp..qp+C), zero points
 *  at a[qp+C..qp+2C). The observer state layout; allocation-free. */
export function qparamsPerChannelInto(a: Float32Array, qp: number, state: number, C: number,
                                      s: QScheme, rule: QParamsRule): void {
  for (let c = 0; c < C; c++) qparamsInto(a, qp + c, qp + C + c, state + c, state + C + c, s, rule);
}

const scratch = new Float32Array(4);

/** Plan-time convenience: scale and zero point for one range (allocates the result object);
 *  min and max are rounded to float32 first, as both PyTorch paths hold them. */
export function chooseQParams(min: number, max: number, s: QScheme, rule: QParamsRule = 'observer'): QParams {
  scratch[2] = min; scratch[3] = max;
  qparamsInto(scratch, 0, 1, 2, 3, s, rule);
  return { scale: scratch[0]!, zeroPoint: scratch[1]! };
}

/** Plan-time convenience: per-channel scales (float32) and zero points (int32). */
export function chooseQParamsPerChannel(mins: ArrayLike<number>, maxs: ArrayLike<number>, s: QScheme,
                                        rule: QParamsRule = 'observer'): { scale: Float32Array; zeroPoint: Int32Array } {
  if (mins.length !== maxs.length) {
    throw new EdgennError('SHAPE', 'per-channel min and max must have the same length',
      { expected: String(mins.length), actual: String(maxs.length) });
  }
  const scale = new Float32Array(mins.length), zeroPoint = new Int32Array(mins.length);
  for (let c = 0; c < mins.length; c++) {
    scratch[2] = mins[c]!; scratch[3] = maxs[c]!;
    qparamsInto(scratch, 0, 1, 2, 3, s, rule);
    scale[c] = scratch[0]!;
    zeroPoint[c] = scratch[1]!;
  }
  return { scale, zeroPoint };
}

/** Splits a shape around `axis` into (outer, C, inner), the view every per-channel kernel uses.
 *  axis may be negative (from the end). Throws EdgennError('ARG') when out of range. */
export function channelView(shape: readonly number[], axis: number): { outer: number; C: number; inner: number } {
  const r = shape.length;
  const ax = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= r) {
    throw new EdgennError('ARG', 'channel axis out of range', { expected: `-${r}..${r - 1}`, actual: String(axis) });
  }
  let outer = 1, inner = 1;
  for (let i = 0; i < ax; i++) outer *= shape[i]!;
  for (let i = ax + 1; i < r; i++) inner *= shape[i]!;
  return { outer, C: shape[ax]!, inner };
}
