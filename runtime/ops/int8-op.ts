// Int8 inference as graph ops: the integer kernels of runtime/quant/int8.ts over 1-byte arena
// values ('i8' / 'u8'), for the models runtime/quant/convert.ts produces. Thin adapters that pick
// the signed or unsigned byte view; the arithmetic (and its reference twins) lives in int8.ts.
// Not differentiable: an int8 model runs inference only (fine-tune the fake-quant model instead).
//
// Buffers: q, x, y, w byte indices into arena.i8 (signed) or arena.u8 (unsigned); qp the f32 index
// of [scale, zero point]; rq the i32 index of [weight zero point (O) | multiplier (O) | shift (O)];
// bias the i32 index of O int32 biases (scale s_x * s_w[o]) or -1.
// Dimensions: n values; dense B rows, I in, O out; conv1d B, C in channels, L length, O out
// channels, K kernel, T out length.
import type { ByteViews } from '../graph/instr.js';
import type { RoundingMode } from '../quant/fake-quant.js';
import { quantizeForward, dequantizeForward, int8DenseForward, int8Conv1dForward, multiplyByQuantizedMultiplier } from '../quant/int8.js';

/** q = saturate(round_half_even(x / scale) + zp): 'torch' multiplies by 1/scale, 'onnx' divides. */
export function int8QuantizeOp(a: Float32Array, v: ByteViews, signed: boolean, q: number, x: number, qp: number,
                               n: number, qmin: number, qmax: number, mode: RoundingMode): void {
  quantizeForward(signed ? v.i8 : v.u8, q, a, x, qp, qp + 1, 1, 1, n, qmin, qmax, mode);
}

export function int8DequantizeOp(a: Float32Array, v: ByteViews, signed: boolean, y: number, q: number, qp: number, n: number): void {
  dequantizeForward(a, y, signed ? v.i8 : v.u8, q, qp, qp + 1, 1, 1, n);
}

export function int8DenseOp(ia: Int32Array, v: ByteViews, ys: boolean, y: number, xs: boolean, x: number, ws: boolean, w: number,
                            bias: number, rq: number, xZero: number, yZero: number, actMin: number, actMax: number,
                            B: number, I: number, O: number): void {
  int8DenseForward(ys ? v.i8 : v.u8, y, xs ? v.i8 : v.u8, x, ws ? v.i8 : v.u8, w, ia, bias, rq, rq + O, rq + 2 * O,
    xZero, yZero, actMin, actMax, B, I, O);
}

export function int8Conv1dOp(ia: Int32Array, v: ByteViews, ys: boolean, y: number, xs: boolean, x: number, ws: boolean, w: number,
                             bias: number, rq: number, xZero: number, yZero: number, actMin: number, actMax: number,
                             B: number, C: number, L: number, O: number, K: number, T: number,
                             stride: number, padding: number, dilation: number): void {
  int8Conv1dForward(ys ? v.i8 : v.u8, y, xs ? v.i8 : v.u8, x, ws ? v.i8 : v.u8, w, ia, bias, rq, rq + O, rq + 2 * O,
    xZero, yZero, actMin, actMax, B, C, L, O, K, T, stride, padding, dilation);
}

/** The SIMD path's second half: y_q (rows, O) = clamp(yZero + requant(acc (rows, O) int32)), with
 *  the per-channel multiplier and shift of rq; the same arithmetic as int8DenseForward's epilogue.
 *  The executor runs its wasm twin (kernels.wat requantize_int8); this is the reference the wasm
 *  kernel is tested against bit for bit. */
export function int8RequantizeRows(ia: Int32Array, v: ByteViews, ys: boolean, y: number, acc: number, rq: number,
                                   yZero: number, actMin: number, actMax: number, rows: number, O: number): void {
  const yq = ys ? v.i8 : v.u8;
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < O; o++) {
      let q = yZero + multiplyByQuantizedMultiplier(ia[acc + r * O + o]!, ia[rq + O + o]!, ia[rq + 2 * O + o]!);
      q = q < actMin ? actMin : q > actMax ? actMax : q;
      yq[y + r * O + o] = q;
    }
  }
}
