// Fake quantization (quantize then dequantize in float) with the clipped straight-through
// estimator, as torch.fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine:
//   q = clamp(round_half_even(x * inv_scale) + zp, qmin, qmax),  y = (q - zp) * scale
//   dx += dy where qmin <= round_half_even(x * inv_scale) + zp <= qmax (before the clamp), else 0
// Not here: learnable scale/zero point (learnable-fake-quant.ts), observers (observers.ts), real
// int8 storage (int8.ts).
//
// Layout: x, y, dx, dy are viewed as (outer, C, inner) with C channels on the quantization axis:
// per-tensor is outer = 1, C = 1, inner = n; a weight [O, I] per output channel is outer = 1,
// C = O, inner = I; axis k of any shape is outer = prod(dims < k), inner = prod(dims > k)
// (qparams.channelView). scale and zeroPoint are offsets of C floats each in the same arena `a`
// (zero points are integers stored as floats). y may alias x.
//
// NOTE: the two standards round different quotients.
//   'torch' (default): PyTorch multiplies by inv_scale = float32(1 / scale), in float32, then
//                      rounds (nearbyint: half to even). Fake-quant and the observers' world.
//   'onnx':            ONNX QuantizeLinear divides, float32(x / scale), then rounds half to even
//                      (what onnxruntime does, and what our importer must do for QDQ models).
// x * fl(1/s) and x / s differ in the last bit for some x, which changes the code only when x / s
// lies within an ulp of a half-step (the reference cases mark such elements `rounding_sensitive`).
// Both then compute y = float32((q - zp) * scale) (exact product, one rounding).
// NOTE: NaN inputs give NaN outputs and a closed mask (PyTorch's int64 cast of NaN is undefined
// behaviour: x86 yields qmin); +-Inf saturate to qmax / qmin with a closed mask.

export type RoundingMode = 'torch' | 'onnx';

/** 1.5 * 2^52: adding and subtracting it rounds a double to an integer half-to-even (the FPU's
 *  default mode), exactly for |v| <= 2^51. Beyond that v is far outside any 8-bit range and only
 *  its sign and size matter, which the trick keeps. */
export const RHE = 6755399441055744;

/** nearbyint under the default rounding mode: round half to even (C's nearbyint, numpy rint). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // half up
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The unclamped integer code of one value (what decides the STE mask). */
export function fakeQuantCode(x: number, scale: number, zeroPoint: number, mode: RoundingMode = 'torch'): number {
  const t = mode === 'onnx' ? Math.fround(Math.fround(x) / Math.fround(scale))
    : Math.fround(Math.fround(x) * Math.fround(1 / Math.fround(scale)));
  return roundHalfEven(t) + zeroPoint;
}

export function fakeQuantForward(a: Float32Array, y: number, x: number, scale: number, zeroPoint: number,
                                 outer: number, C: number, inner: number, qmin: number, qmax: number,
                                 mode: RoundingMode = 'torch'): void {
  const onnx = mode === 'onnx';
  for (let c = 0; c < C; c++) {
    const s = a[scale + c]!, zp = a[zeroPoint + c]!;
    const inv = Math.fround(1 / s);
    for (let o = 0; o < outer; o++) {
      const base = (o * C + c) * inner;
      const xb = x + base, yb = y + base;
      for (let i = 0; i < inner; i++) {
        const v = a[xb + i]!;
        const t = onnx ? Math.fround(v / s) : Math.fround(v * inv);
        let q = t + RHE - RHE + zp;
        q = q < qmin ? qmin : q > qmax ? qmax : q;
        a[yb + i] = (q - zp) * s; // exact in double; the float32 store rounds once
      }
    }
  }
}

/** Clipped STE: dx += dy where the unclamped code lies in [qmin, qmax]. Needs the forward's x
 *  and qparams (unchanged since the forward), so no mask buffer is kept. */
export function fakeQuantBackward(a: Float32Array, dx: number, dy: number, x: number, scale: number, zeroPoint: number,
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
        const t = onnx ? Math.fround(v / s) : Math.fround(v * inv);
        const q = t + RHE - RHE + zp;
        if (q >= qmin && q <= qmax) a[dx + base + i] += a[dy + base + i]!;
      }
    }
  }
}

/** Naive twin: element by element from the flat index, with the Math.round-based rounding. */
export function fakeQuantForwardRef(a: Float32Array, y: number, x: number, scale: number, zeroPoint: number,
                                    outer: number, C: number, inner: number, qmin: number, qmax: number,
                                    mode: RoundingMode = 'torch'): void {
  const n = outer * C * inner;
  for (let k = 0; k < n; k++) {
    const c = Math.floor(k / inner) % C;
    const s = a[scale + c]!, zp = a[zeroPoint + c]!;
    const q = Math.min(Math.max(fakeQuantCode(a[x + k]!, s, zp, mode), qmin), qmax);
    a[y + k] = Math.fround((q - zp) * s);
  }
}

export function fakeQuantBackwardRef(a: Float32Array, dx: number, dy: number, x: number, scale: number, zeroPoint: number,
                                     outer: number, C: number, inner: number, qmin: number, qmax: number,
                                     mode: RoundingMode = 'torch'): void {
  const n = outer * C * inner;
  for (let k = 0; k < n; k++) {
    const c = Math.floor(k / inner) % C;
    const q = fakeQuantCode(a[x + k]!, a[scale + c]!, a[zeroPoint + c]!, mode);
    if (qmin <= q && q <= qmax) a[dx + k] += a[dy + k]!;
  }
}
