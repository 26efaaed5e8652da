// conv1d (nn.Conv1d, groups = 1): local receptive fields with shared weights, cross-correlation
// with zero padding. Dimensions: B batch, C in channels, L in length, O out channels, K kernel,
// T out length = floor((L + 2*padding - dilation*(K-1) - 1) / stride) + 1.
//   x is (B, C, L), w is (O, C, K), b is (O) or -1, y is (B, O, T)
// Backward accumulates into dx (B, C, L), dw (O, C, K), db (O); each may be -1 (not needed).
import { EdgennError } from '../errors.js';

export function conv1dOutLength(L: number, K: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((L + 2 * padding - dilation * (K - 1) - 1) / stride) + 1;
}

export function conv1dShape(node: string, xDims: readonly number[], wDims: readonly number[],
                            bDims: readonly number[] | null,
                            stride: number, padding: number, dilation: number): number[] {
  if (xDims.length !== 2) {
    throw new EdgennError('SHAPE', 'conv1d input must be [B, C, L]', { node, expected: '[B, C, L]', actual: `[B, ${xDims.join(', ')}]` });
  }
  if (wDims.length !== 3 || wDims[1] !== xDims[0]) {
    throw new EdgennError('SHAPE', 'conv1d weight must be [O, C, K] with C matching the input channels',
      { node, expected: `[O, ${xDims[0]}, K]`, actual: `[${wDims.join(', ')}]` });
  }
  if (bDims !== null && (bDims.length !== 1 || bDims[0] !== wDims[0])) {
    throw new EdgennError('SHAPE', 'conv1d bias must be [O]', { node, expected: `[${wDims[0]}]`, actual: `[${bDims.join(', ')}]` });
  }
  for (const [k, v, min] of [['stride', stride, 1], ['dilation', dilation, 1], ['padding', padding, 0]] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new EdgennError('ARG', `conv1d ${k} must be an integer >= ${min}`, { node, actual: String(v) });
    }
  }
  const T = conv1dOutLength(xDims[1]!, wDims[2]!, stride, padding, dilation);
  if (T < 1) {
    throw new EdgennError('SHAPE', 'conv1d input is shorter than the (dilated) kernel',
      { node, expected: `L + 2*padding >= ${dilation * (wDims[2]! - 1) + 1}`, actual: `L = ${xDims[1]}, padding = ${padding}` });
  }
  return [wDims[0]!, T];
}

export function conv1dForward(a: Float32Array, y: number, x: number, w: number, b: number,
                              B: number, C: number, L: number, O: number, K: number, T: number,
                              stride: number, padding: number, dilation: number): void {
  for (let bi = 0; bi < B; bi++) {
    for (let o = 0; o < O; o++) {
      const yr = y + (bi * O + o) * T;
      const bias = b >= 0 ? a[b + o]! : 0;
      for (let t = 0; t < T; t++) {
        const start = t * stride - padding;
        let s = 0;
        for (let c = 0; c < C; c++) {
          const xr = x + (bi * C + c) * L;
          const wr = w + (o * C + c) * K;
          for (let k = 0; k < K; k++) {
            const p = start + k * dilation;
            if (p >= 0 && p < L) s += a[xr + p]! * a[wr + k]!;
          }
        }
        a[yr + t] = s + bias;
      }
    }
  }
}

export function conv1dBackward(a: Float32Array, dx: number, dw: number, db: number,
                               dy: number, x: number, w: number,
                               B: number, C: number, L: number, O: number, K: number, T: number,
                               stride: number, padding: number, dilation: number): void {
  for (let bi = 0; bi < B; bi++) {
    for (let o = 0; o < O; o++) {
      const dyr = dy + (bi * O + o) * T;
      for (let t = 0; t < T; t++) {
        const g = a[dyr + t]!;
        if (g === 0) continue;
        if (db >= 0) a[db + o] += g;
        const start = t * stride - padding;
        for (let c = 0; c < C; c++) {
          const xr = x + (bi * C + c) * L;
          const dxr = dx + (bi * C + c) * L;
          const wr = w + (o * C + c) * K;
          const dwr = dw + (o * C + c) * K;
          for (let k = 0; k < K; k++) {
            const p = start + k * dilation;
            if (p < 0 || p >= L) continue;
            if (dw >= 0) a[dwr + k] += g * a[xr + p]!;
            if (dx >= 0) a[dxr + p] += g * a[wr + k]!;
          }
        }
      }
    }
  }
}

/** Naive twin: the definition, with an explicitly padded input. */
export function conv1dForwardRef(a: Float32Array, y: number, x: number, w: number, b: number,
                                 B: number, C: number, L: number, O: number, K: number, T: number,
                                 stride: number, padding: number, dilation: number): void {
  const at = (bi: number, c: number, p: number): number =>
    p < 0 || p >= L ? 0 : a[x + (bi * C + c) * L + p]!;
  for (let bi = 0; bi < B; bi++) {
    for (let o = 0; o < O; o++) {
      for (let t = 0; t < T; t++) {
        let s = b >= 0 ? a[b + o]! : 0;
        for (let c = 0; c < C; c++) {
          for (let k = 0; k < K; k++) s += at(bi, c, t * stride - padding + k * dilation) * a[w + (o * C + c) * K + k]!;
        }
        a[y + (bi * O + o) * T + t] = s;
      }
    }
  }
}
