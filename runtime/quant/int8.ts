// Real int8 inference kernels: quantize / dequantize between float32 and int8/uint8 codes, and
// integer-only dense and conv1d with int32 accumulation and fixed-point requantization
// (Jacob et al. 2018; the TFLite int8 reference kernels, gemmlowp's double rounding):
//   acc  = bias_q[o] + sum_i (x_q - zx) * (w_q - zw[o])                    int32
//   y_q  = clamp(zy + MultiplyByQuantizedMultiplier(acc, M0[o], shift[o]), actMin, actMax)
//   M0 * 2^shift ~= s_x * s_w[o] / s_y,  bias_q = round(bias / (s_x * s_w[o]))  (int32, zp 0)
// Plus the ONNX QuantizeLinear / DequantizeLinear reference functions the importer uses.
// Not here: float fake-quant (fake-quant.ts), the choice of qparams (qparams.ts), graph convert.
//
// Dimensions: B batch, I in features, O out features; conv1d C in channels, L length, K kernel,
// T out length. Quantized buffers are offsets into an Int8Array or Uint8Array view (arena.i8 /
// arena.u8, byte offsets); int32 buffers (bias, per-channel weight zero points, multipliers,
// shifts: O entries each, per-tensor values repeated) are offsets into arena.i32; float buffers
// offsets into arena.f32 as everywhere else.
//
// NOTE: JS has no 64-bit integer multiply without BigInt (which allocates). The 32x32 -> 64-bit
// product of SaturatingRoundingDoublingHighMul is split into 16-bit halves so that every partial
// product stays below 2^53 and is exact in a double (see saturatingRoundingDoublingHighMul).
// NOTE: requantization is TFLite's default (gemmlowp) double rounding: a rounding doubling high
// multiply, then a rounding right shift (ties away from zero). TFLite built with
// TFLITE_SINGLE_ROUNDING, onnxruntime (float multiplier, ties to even) and PyTorch's qnnpack
// (float requantization) round differently in rare ties: results then differ by one code.
// NOTE: int32 accumulation wraps like C int32 (acc | 0); sums are exact before the wrap because
// |acc| < 2^53 for any I below 2^37.
import { EdgennError } from '../errors.js';
import { roundHalfEven, RHE, type RoundingMode } from './fake-quant.js';

export type QuantArray = Int8Array | Uint8Array;

const INT32_MIN = -2147483648, INT32_MAX = 2147483647;

// ---------------------------------------------------------------- quantize / dequantize

/** q = saturate(round_half_even(x (*|/) scale) + zp) into [qmin, qmax]; x is (outer, C, inner)
 *  in `a`, scale / zeroPoint are C floats in `a`, q is written to `qa` at qOut. 'torch' multiplies
 *  by float32(1/scale) (torch.quantize_per_tensor / _per_channel); 'onnx' divides (QuantizeLinear). */
export function quantizeForward(qa: QuantArray, qOut: number, a: Float32Array, x: number, scale: number, zeroPoint: number,
                                outer: number, C: number, inner: number, qmin: number, qmax: number,
                                mode: RoundingMode = 'torch'): void {
  const onnx = mode === 'onnx';
  for (let c = 0; c < C; c++) {
    const s = a[scale + c]!, zp = a[zeroPoint + c]!;
    const inv = Math.fround(1 / s);
    for (let o = 0; o < outer; o++) {
      const base = (o * C + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = a[x + base + i]!;
        let q = (onnx ? Math.fround(v / s) : Math.fround(v * inv)) + RHE - RHE + zp;
        // NOTE: NaN -> zero point (a typed-array store would make it 0, which is not "real 0")
        q = q < qmin ? qmin : q > qmax ? qmax : q === q ? q : zp;
        qa[qOut + base + i] = q;
      }
    }
  }
}

/** y = float32((q - zp) * scale), the inverse map (torch.dequantize, DequantizeLinear). */
export function dequantizeForward(a: Float32Array, y: number, qa: QuantArray, qIn: number, scale: number, zeroPoint: number,
                                  outer: number, C: number, inner: number): void {
  for (let c = 0; c < C; c++) {
    const s = a[scale + c]!, zp = a[zeroPoint + c]!;
    for (let o = 0; o < outer; o++) {
      const base = (o * C + c) * inner;
      for (let i = 0; i < inner; i++) a[y + base + i] = (qa[qIn + base + i]! - zp) * s;
    }
  }
}

// ---------------------------------------------------------------- fixed-point requantization

/** TFLite QuantizeMultiplier: real = M0 * 2^(shift - 31) with M0 in [2^30, 2^31) (or 0). Multipliers
 *  below ~2^-31 flush to zero, as TFLite does. Writes M0 at i32[multiplierAt], shift at i32[shiftAt]. */
export function quantizeMultiplierInto(i32: Int32Array, multiplierAt: number, shiftAt: number, real: number): void {
  if (real === 0 || !Number.isFinite(real)) { i32[multiplierAt] = 0; i32[shiftAt] = 0; return; }
  // frexp: real = f * 2^e, 0.5 <= |f| < 1
  const abs = Math.abs(real);
  let e = Math.ceil(Math.log2(abs));
  let f = abs / 2 ** e;
  while (f >= 1) { f /= 2; e++; }
  while (f < 0.5) { f *= 2; e--; }
  // TfLiteRound = std::round (half away from zero); f * 2^31 is exact
  let qFixed = Math.floor(f * 2147483648 + 0.5);
  if (qFixed === 2147483648) { qFixed /= 2; e++; }
  if (e < -31) { e = 0; qFixed = 0; }
  i32[multiplierAt] = real < 0 ? -qFixed : qFixed;
  i32[shiftAt] = e;
}

const qmScratch = new Int32Array(2);

/** Plan-time convenience around quantizeMultiplierInto. */
export function quantizeMultiplier(real: number): { multiplier: number; shift: number } {
  quantizeMultiplierInto(qmScratch, 0, 1, real);
  return { multiplier: qmScratch[0]!, shift: qmScratch[1]! };
}

/** gemmlowp SaturatingRoundingDoublingHighMul: trunc((a*b + nudge) / 2^31) for int32 a, b, with
 *  nudge = 2^30 (a*b >= 0) or 1 - 2^30, saturating the one overflow (INT32_MIN * INT32_MIN). */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // NOTE: a*b needs up to 62 bits. Split b = bh * 2^16 + bl (bl in [0, 2^16)), then a*bh = p,
  // p = ph * 2^15 + pl (pl in [0, 2^15)), so a*b + nudge = ph * 2^31 + r with
  // r = pl * 2^16 + a*bl + nudge: every term is below 2^49, exact in a double.
  const bl = b & 0xffff, bh = b >> 16;
  const p = a * bh;
  const ph = Math.floor(p / 32768);
  const pl = p - ph * 32768;
  const neg = (a < 0 && b > 0) || (a > 0 && b < 0);
  const r = pl * 65536 + a * bl + (neg ? -1073741823 : 1073741824);
  const rq = Math.floor(r / 2147483648);
  // floor(total / 2^31) = ph + rq; C++ integer division truncates toward zero instead
  const hi = ph + rq + (neg && r !== rq * 2147483648 ? 1 : 0);
  return hi | 0;
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero, 0 <= exponent <= 31. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  const mask = ((1 << exponent) - 1) | 0;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite MultiplyByQuantizedMultiplier (double-rounding reference variant) for int32 x. */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(Math.imul(x, 1 << left), multiplier), right);
}

/** Reference twin in BigInt, straight from the TFLite / gemmlowp source. Allocates: tests only. */
export function multiplyByQuantizedMultiplierRef(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const xs = BigInt.asIntN(32, BigInt(x) * (1n << BigInt(left)));
  const m = BigInt(multiplier);
  let hi: bigint;
  if (xs === -2147483648n && m === -2147483648n) hi = 2147483647n;
  else {
    const ab = xs * m;
    const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
    hi = BigInt.asIntN(32, (ab + nudge) / (1n << 31n)); // BigInt division truncates like C++
  }
  const mask = (1n << BigInt(right)) - 1n;
  const remainder = hi & mask;
  const threshold = (mask >> 1n) + (hi < 0n ? 1n : 0n);
  return Number((hi >> BigInt(right)) + (remainder > threshold ? 1n : 0n));
}

// ---------------------------------------------------------------- integer dense / conv1d

/**
 * y_q (B, O) = requant(bias (O) + x_q (B, I) · (w_q (O, I) - wZero (O))ᵀ) with int32 accumulation.
 * bias may be -1 (none). wZero, multiplier, shift are O int32 each in i32. actMin/actMax clamp
 * the output codes: [qmin, qmax] of the output, or [max(qmin, zy), qmax] for a fused ReLU.
 */
export function int8DenseForward(yq: QuantArray, y: number, xq: QuantArray, x: number, wq: QuantArray, w: number,
                                 i32: Int32Array, bias: number, wZero: number, multiplier: number, shift: number,
                                 xZero: number, yZero: number, actMin: number, actMax: number,
                                 B: number, I: number, O: number): void {
  for (let b = 0; b < B; b++) {
    const xr = x + b * I, yr = y + b * O;
    for (let o = 0; o < O; o++) {
      const wr = w + o * I, zw = i32[wZero + o]!;
      let acc = bias >= 0 ? i32[bias + o]! : 0;
      for (let i = 0; i < I; i++) acc += (xq[xr + i]! - xZero) * (wq[wr + i]! - zw);
      let v = yZero + multiplyByQuantizedMultiplier(acc | 0, i32[multiplier + o]!, i32[shift + o]!);
      v = v < actMin ? actMin : v > actMax ? actMax : v;
      yq[yr + o] = v;
    }
  }
}

/** Naive twin: same integer semantics, BigInt requantization. Allocates: tests only. */
export function int8DenseForwardRef(yq: QuantArray, y: number, xq: QuantArray, x: number, wq: QuantArray, w: number,
                                    i32: Int32Array, bias: number, wZero: number, multiplier: number, shift: number,
                                    xZero: number, yZero: number, actMin: number, actMax: number,
                                    B: number, I: number, O: number): void {
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      let acc = 0;
      for (let i = 0; i < I; i++) acc += (xq[x + b * I + i]! - xZero) * (wq[w + o * I + i]! - i32[wZero + o]!);
      if (bias >= 0) acc += i32[bias + o]!;
      const v = yZero + multiplyByQuantizedMultiplierRef(acc | 0, i32[multiplier + o]!, i32[shift + o]!);
      yq[y + b * O + o] = Math.min(Math.max(v, actMin), actMax);
    }
  }
}

/**
 * Integer conv1d (groups 1): x_q (B, C, L), w_q (O, C, K), y_q (B, O, T), zero padding in real
 * terms (a padded position contributes (zx - zx) = 0). Per-output-channel wZero/multiplier/shift.
 */
export function int8Conv1dForward(yq: QuantArray, y: number, xq: QuantArray, x: number, wq: QuantArray, w: number,
                                  i32: Int32Array, bias: number, wZero: number, multiplier: number, shift: number,
                                  xZero: number, yZero: number, actMin: number, actMax: number,
                                  B: number, C: number, L: number, O: number, K: number, T: number,
                                  stride: number, padding: number, dilation: number): void {
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      const zw = i32[wZero + o]!, m = i32[multiplier + o]!, sh = i32[shift + o]!;
      const b0 = bias >= 0 ? i32[bias + o]! : 0;
      const yr = y + (b * O + o) * T;
      for (let t = 0; t < T; t++) {
        const start = t * stride - padding;
        let acc = b0;
        for (let c = 0; c < C; c++) {
          const xr = x + (b * C + c) * L, wr = w + (o * C + c) * K;
          for (let k = 0; k < K; k++) {
            const p = start + k * dilation;
            if (p >= 0 && p < L) acc += (xq[xr + p]! - xZero) * (wq[wr + k]! - zw);
          }
        }
        let v = yZero + multiplyByQuantizedMultiplier(acc | 0, m, sh);
        v = v < actMin ? actMin : v > actMax ? actMax : v;
        yq[yr + t] = v;
      }
    }
  }
}

/** Naive twin of int8Conv1dForward (explicit zero-point padding, BigInt requantization). */
export function int8Conv1dForwardRef(yq: QuantArray, y: number, xq: QuantArray, x: number, wq: QuantArray, w: number,
                                     i32: Int32Array, bias: number, wZero: number, multiplier: number, shift: number,
                                     xZero: number, yZero: number, actMin: number, actMax: number,
                                     B: number, C: number, L: number, O: number, K: number, T: number,
                                     stride: number, padding: number, dilation: number): void {
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) for (let t = 0; t < T; t++) {
    let acc = bias >= 0 ? i32[bias + o]! : 0;
    for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) {
      const p = t * stride - padding + k * dilation;
      const xv = p >= 0 && p < L ? xq[x + (b * C + c) * L + p]! : xZero;
      acc += (xv - xZero) * (wq[w + (o * C + c) * K + k]! - i32[wZero + o]!);
    }
    const v = yZero + multiplyByQuantizedMultiplierRef(acc | 0, i32[multiplier + o]!, i32[shift + o]!);
    yq[y + (b * O + o) * T + t] = Math.min(Math.max(v, actMin), actMax);
  }
}

// ---------------------------------------------------------------- plan-time conversion

export interface Int8LinearSpec {
  /** float weights (O, F): F = I for dense, C*K for conv1d */
  readonly weight: ArrayLike<number>;
  readonly O: number;
  readonly bias: ArrayLike<number> | null;
  /** 1 (per tensor) or O (per output channel) */
  readonly weightScale: ArrayLike<number>;
  /** 1 or O; default 0 */
  readonly weightZero?: ArrayLike<number>;
  /** weight code range; default int8 -128..127 (Uint8Array storage when weightQmin >= 0) */
  readonly weightQmin?: number;
  readonly weightQmax?: number;
  readonly inputScale: number;
  readonly inputZero: number;
  readonly outputScale: number;
  readonly outputZero: number;
  readonly outputQmin: number;
  readonly outputQmax: number;
  /** fused ReLU: clamp the output codes at the zero point */
  readonly relu?: boolean;
  /** how weights and bias are rounded: 'torch' (x * 1/s, default) or 'onnx' (x / s) */
  readonly mode?: RoundingMode;
}

export interface Int8LinearParams {
  readonly weight: QuantArray;        // (O, F)
  readonly weightZero: Int32Array;    // (O)
  readonly bias: Int32Array | null;   // (O), scale s_x * s_w[o], zero point 0
  readonly multiplier: Int32Array;    // (O)
  readonly shift: Int32Array;         // (O)
  readonly actMin: number;
  readonly actMax: number;
}

/**
 * Converts a float (fake-quant trained) linear layer to the integer kernels' operands. Plan
 * time: allocates its results (copy them into the arena) and throws EdgennError on bad sizes.
 * The effective multiplier s_x * s_w[o] / s_y is computed in double as TFLite does; the bias
 * scale is the float32 product s_x * s_w[o], as an ONNX exporter would store it.
 */
export function prepareInt8Linear(spec: Int8LinearSpec): Int8LinearParams {
  const O = spec.O;
  if (!Number.isInteger(O) || O < 1 || spec.weight.length % O !== 0) {
    throw new EdgennError('SHAPE', 'weight length must be a multiple of the output channels',
      { tensor: 'weight', expected: `O * F with O = ${O}`, actual: String(spec.weight.length) });
  }
  const F = spec.weight.length / O;
  const perCh = (v: ArrayLike<number>, name: string): ((o: number) => number) => {
    if (v.length !== 1 && v.length !== O) {
      throw new EdgennError('SHAPE', `${name} must have 1 or O entries`, { tensor: name, expected: `1 or ${O}`, actual: String(v.length) });
    }
    return v.length === 1 ? () => v[0]! : (o: number) => v[o]!;
  };
  const ws = perCh(spec.weightScale, 'weightScale');
  const wz = perCh(spec.weightZero ?? [0], 'weightZero');
  if (spec.bias !== null && spec.bias.length !== O) {
    throw new EdgennError('SHAPE', 'bias must have O entries', { tensor: 'bias', expected: String(O), actual: String(spec.bias.length) });
  }
  for (const [name, v] of [['inputScale', spec.inputScale], ['outputScale', spec.outputScale]] as const) {
    if (!(v > 0) || !Number.isFinite(v)) throw new EdgennError('ARG', `${name} must be positive and finite`, { actual: String(v) });
  }
  for (let o = 0; o < O; o++) {
    if (!(ws(o) > 0) || !Number.isFinite(ws(o))) {
      throw new EdgennError('ARG', 'weight scales must be positive and finite', { tensor: 'weightScale', actual: `${ws(o)} at ${o}` });
    }
  }
  const wqmin = spec.weightQmin ?? -128, wqmax = spec.weightQmax ?? 127;
  const mode = spec.mode ?? 'torch';
  const weight: QuantArray = wqmin < 0 ? new Int8Array(O * F) : new Uint8Array(O * F);
  const weightZero = new Int32Array(O), multiplier = new Int32Array(O), shift = new Int32Array(O);
  const bias = spec.bias === null ? null : new Int32Array(O);
  const sx = Math.fround(spec.inputScale), sy = Math.fround(spec.outputScale);
  for (let o = 0; o < O; o++) {
    const s = Math.fround(ws(o)), z = wz(o);
    weightZero[o] = z;
    for (let f = 0; f < F; f++) {
      const q = roundHalfEven(mode === 'onnx' ? Math.fround(Math.fround(spec.weight[o * F + f]!) / s)
        : Math.fround(Math.fround(spec.weight[o * F + f]!) * Math.fround(1 / s))) + z;
      weight[o * F + f] = Math.min(Math.max(q, wqmin), wqmax);
    }
    quantizeMultiplierInto(qmScratch, 0, 1, (sx * s) / sy);
    multiplier[o] = qmScratch[0]!;
    shift[o] = qmScratch[1]!;
    if (bias !== null) {
      const sb = Math.fround(sx * s), bv = Math.fround(spec.bias![o]!);
      const q = roundHalfEven(mode === 'onnx' ? Math.fround(bv / sb) : Math.fround(bv * Math.fround(1 / sb)));
      bias[o] = Math.min(Math.max(q, INT32_MIN), INT32_MAX);
    }
  }
  const actMin = spec.relu === true ? Math.max(spec.outputQmin, spec.outputZero) : spec.outputQmin;
  return { weight, weightZero, bias, multiplier, shift, actMin, actMax: spec.outputQmax };
}

// ---------------------------------------------------------------- ONNX reference functions

function onnxAxisView(op: string, shape: readonly number[], nScale: number, nZero: number, axis: number): { outer: number; C: number; inner: number } {
  const n = shape.reduce((p, d) => p * d, 1);
  if (nScale === 1 && nZero <= 1) return { outer: 1, C: 1, inner: n };
  const r = shape.length, ax = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= r) {
    throw new EdgennError('ARG', `${op} axis out of range`, { expected: `-${r}..${r - 1}`, actual: String(axis) });
  }
  const C = shape[ax]!;
  if (nScale !== C || (nZero !== 0 && nZero !== C)) {
    throw new EdgennError('SHAPE', `${op} per-axis scale / zero point must have shape[axis] entries`,
      { tensor: 'y_scale', expected: String(C), actual: `scale ${nScale}, zero point ${nZero}` });
  }
  let outer = 1, inner = 1;
  for (let i = 0; i < ax; i++) outer *= shape[i]!;
  for (let i = ax + 1; i < r; i++) inner *= shape[i]!;
  return { outer, C, inner };
}

/**
 * ONNX QuantizeLinear (opset 13, int8/uint8): y = saturate(round_half_even(x / y_scale) + zp),
 * the quotient in float32. Per tensor (scale of 1 element) or per axis (shape[axis] elements).
 * zeroPoint null means 0 (and uint8 output, the ONNX default). Plan time / importer: allocates.
 */
export function quantizeLinearRef(x: ArrayLike<number>, shape: readonly number[], scale: ArrayLike<number>,
                                  zeroPoint: ArrayLike<number> | null, axis: number,
                                  dtype: 'int8' | 'uint8'): QuantArray {
  const { outer, C, inner } = onnxAxisView('QuantizeLinear', shape, scale.length, zeroPoint?.length ?? 0, axis);
  const lo = dtype === 'int8' ? -128 : 0, hi = dtype === 'int8' ? 127 : 255;
  const out: QuantArray = dtype === 'int8' ? new Int8Array(outer * C * inner) : new Uint8Array(outer * C * inner);
  for (let k = 0; k < out.length; k++) {
    const c = Math.floor(k / inner) % C;
    const s = Math.fround(scale[c]!), zp = zeroPoint === null ? 0 : zeroPoint[c]!;
    const q = roundHalfEven(Math.fround(Math.fround(x[k]!) / s)) + zp;
    out[k] = Number.isNaN(q) ? zp : Math.min(Math.max(q, lo), hi);
  }
  return out;
}

/** ONNX DequantizeLinear (opset 13): y = float32((x - zp) * x_scale), per tensor or per axis. */
export function dequantizeLinearRef(q: ArrayLike<number>, shape: readonly number[], scale: ArrayLike<number>,
                                    zeroPoint: ArrayLike<number> | null, axis: number): Float32Array {
  const { outer, C, inner } = onnxAxisView('DequantizeLinear', shape, scale.length, zeroPoint?.length ?? 0, axis);
  const out = new Float32Array(outer * C * inner);
  for (let k = 0; k < out.length; k++) {
    const c = Math.floor(k / inner) % C;
    out[k] = (q[k]! - (zeroPoint === null ? 0 : zeroPoint[c]!)) * Math.fround(scale[c]!);
  }
  return out;
}
