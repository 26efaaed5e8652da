// Linear quantization as graph ops (ONNX QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// QLinearMatMul, MatMulInteger). Integers live in i32 cells holding int8/uint8 values.
// Straightforward reference kernels; runtime/quant/ holds the training-side quantization
// (fake-quant, observers) and may later provide faster int8 kernels for these ops.
//   x viewed as (rows, D, inner) around the quantization axis; scale/zero point indexed by
//   mode 0 per tensor ([0]), 1 per axis ([d]), 2 blocked ([(o*nb + floor(d/bs))*inner + i]).
//   quantize: q = clamp(roundHalfEven(fround(x / s)) + zp, qmin, qmax)
//   dequantize: x = (q - zp) * s
//   dynamic: s = (max(0, max x) - min(0, min x)) / 255, zp = clamp(roundHalfEven(-min/s), 0, 255),
//            then quantize to uint8 (ONNX DynamicQuantizeLinear)
//   qmatmul: C = sum_k (a[m,k] - azp) * (b[k,n] - bzp) in int32; QLinearMatMul requantizes
//            y = clamp(roundHalfEven(C * fround(fround(as*bs)/ys)) + yzp); zero points and
//            scales are per tensor (length 1) or per row of A / per column of B
// NOTE: the division x / s is rounded to float32 before rounding to an integer, as the ONNX
// reference (numpy float32) does; computing it in double flips exact-half ties.

export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function qIndex(mode: number, o: number, d: number, i: number, inner: number, nb: number, bs: number): number {
  return mode === 0 ? 0 : mode === 1 ? d : (o * nb + ((d / bs) | 0)) * inner + i;
}

export function quantizeForward(a: Float32Array, ia: Int32Array, y: number, x: number, s: number, zp: number,
                                rows: number, D: number, inner: number, mode: number, bs: number, qmin: number, qmax: number): void {
  const nb = bs > 0 ? Math.ceil(D / bs) : 1;
  for (let o = 0; o < rows; o++) {
    for (let d = 0; d < D; d++) {
      for (let i = 0; i < inner; i++) {
        const k = (o * D + d) * inner + i;
        const si = qIndex(mode, o, d, i, inner, nb, bs);
        let q = roundHalfEven(Math.fround(a[x + k]! / a[s + si]!)) + (zp >= 0 ? ia[zp + si]! : 0);
        if (q < qmin) q = qmin; else if (q > qmax) q = qmax;
        ia[y + k] = q !== q ? 0 : q;
      }
    }
  }
}

export function dequantizeForward(a: Float32Array, ia: Int32Array, y: number, q: number, s: number, zp: number,
                                  rows: number, D: number, inner: number, mode: number, bs: number): void {
  const nb = bs > 0 ? Math.ceil(D / bs) : 1;
  for (let o = 0; o < rows; o++) {
    for (let d = 0; d < D; d++) {
      for (let i = 0; i < inner; i++) {
        const k = (o * D + d) * inner + i;
        const si = qIndex(mode, o, d, i, inner, nb, bs);
        a[y + k] = (ia[q + k]! - (zp >= 0 ? ia[zp + si]! : 0)) * a[s + si]!;
      }
    }
  }
}

export function dynQuantizeForward(a: Float32Array, ia: Int32Array, y: number, s: number, zp: number, x: number, n: number): void {
  let lo = 0, hi = 0;
  for (let i = 0; i < n; i++) { const v = a[x + i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
  const scale = Math.fround((hi - lo) / 255);
  a[s] = scale;
  if (scale === 0) { ia[zp] = 0; for (let i = 0; i < n; i++) ia[y + i] = 0; return; }
  let z = roundHalfEven(Math.fround(-lo / scale));
  z = z < 0 ? 0 : z > 255 ? 255 : z;
  ia[zp] = z;
  for (let i = 0; i < n; i++) {
    let q = roundHalfEven(Math.fround(a[x + i]! / scale)) + z;
    if (q < 0) q = 0; else if (q > 255) q = 255;
    ia[y + i] = q;
  }
}

/**
 * Integer matmul (rows of A per sample M, K, N; P matrices with offsets as matmul.ts) with zero
 * points azp (length nAzp: 1 or M), bzp (1 or N); when yS >= 0 requantized with scales aS (1 or
 * M), bS (1 or N), yS and zero point yzp into [qmin, qmax], else the int32 sums.
 */
export function qmatmulForward(a: Float32Array, ia: Int32Array, Y: number, A: number, B: number,
                               azp: number, nAzp: number, bzp: number, nBzp: number,
                               aS: number, nAs: number, bS: number, nBs: number, yS: number, yzp: number,
                               outer: number, osA: number, osB: number, osY: number, P: number, offA: Int32Array, offB: Int32Array,
                               M: number, K: number, N: number, qmin: number, qmax: number): void {
  for (let r = 0; r < outer; r++) {
    for (let p = 0; p < P; p++) {
      const ab = A + r * osA + offA[p]!, bb = B + r * osB + offB[p]!, yb = Y + r * osY + p * M * N;
      for (let m = 0; m < M; m++) {
        const za = azp >= 0 ? ia[azp + (nAzp === 1 ? 0 : m)]! : 0;
        for (let n = 0; n < N; n++) {
          const zb = bzp >= 0 ? ia[bzp + (nBzp === 1 ? 0 : n)]! : 0;
          let c = 0;
          for (let k = 0; k < K; k++) c += (ia[ab + m * K + k]! - za) * (ia[bb + k * N + n]! - zb);
          if (yS < 0) { ia[yb + m * N + n] = c | 0; continue; }
          const mul = Math.fround(Math.fround(a[aS + (nAs === 1 ? 0 : m)]! * a[bS + (nBs === 1 ? 0 : n)]!) / a[yS]!);
          let q = roundHalfEven(c * mul) + (yzp >= 0 ? ia[yzp]! : 0);
          if (q < qmin) q = qmin; else if (q > qmax) q = qmax;
          ia[yb + m * N + n] = q;
        }
      }
    }
  }
}

/** Naive twins on numbers. */
export function quantizeLinearRef(x: number, s: number, zp: number, qmin: number, qmax: number): number {
  const v = Math.fround(x / s);
  const f = Math.floor(v);
  const r = v - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(v);
  return Math.min(qmax, Math.max(qmin, r + zp));
}
export function dequantizeLinearRef(q: number, s: number, zp: number): number {
  return Math.fround((q - zp) * s);
}
