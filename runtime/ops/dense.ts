// dense (nn.Linear): y = x Wᵀ + b in PyTorch's layout. Dimensions: B batch, I in features,
// O out features. Buffers are offsets into one Float32Array `a`:
//   x is (B, I), w is (O, I), b is (O) or -1 for no bias, y is (B, O)
// Backward accumulates (+=) into dx (B, I), dw (O, I), db (O); each may be -1 (not needed).
// NOTE: sums are carried in JS doubles and rounded to float32 once on store; PyTorch
// accumulates in float32, so results agree to float32 rounding of the sum, not bit for bit.
import { EdgennError } from '../errors.js';

export function denseShape(node: string, xDims: readonly number[], wDims: readonly number[],
                           bDims: readonly number[] | null): number[] {
  if (xDims.length !== 1) {
    throw new EdgennError('SHAPE', 'dense input must be [B, I]', { node, expected: '[B, I]', actual: `[B, ${xDims.join(', ')}]` });
  }
  if (wDims.length !== 2 || wDims[1] !== xDims[0]) {
    throw new EdgennError('SHAPE', 'dense weight must be [O, I] with I matching the input',
      { node, expected: `[O, ${xDims[0]}]`, actual: `[${wDims.join(', ')}]` });
  }
  if (bDims !== null && (bDims.length !== 1 || bDims[0] !== wDims[0])) {
    throw new EdgennError('SHAPE', 'dense bias must be [O]', { node, expected: `[${wDims[0]}]`, actual: `[${bDims.join(', ')}]` });
  }
  return [wDims[0]!];
}

export function denseForward(a: Float32Array, y: number, x: number, w: number, b: number,
                             B: number, I: number, O: number): void {
  const I4 = I - (I & 3);
  for (let bi = 0; bi < B; bi++) {
    const xr = x + bi * I;
    const yr = y + bi * O;
    for (let o = 0; o < O; o++) {
      const wr = w + o * I;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let i = 0;
      for (; i < I4; i += 4) {
        s0 += a[xr + i]! * a[wr + i]!;
        s1 += a[xr + i + 1]! * a[wr + i + 1]!;
        s2 += a[xr + i + 2]! * a[wr + i + 2]!;
        s3 += a[xr + i + 3]! * a[wr + i + 3]!;
      }
      for (; i < I; i++) s0 += a[xr + i]! * a[wr + i]!;
      a[yr + o] = (b >= 0 ? a[b + o]! : 0) + ((s0 + s1) + (s2 + s3));
    }
  }
}

export function denseBackward(a: Float32Array, dx: number, dw: number, db: number,
                              dy: number, x: number, w: number, B: number, I: number, O: number): void {
  for (let bi = 0; bi < B; bi++) {
    const xr = x + bi * I;
    const dyr = dy + bi * O;
    const dxr = dx + bi * I;
    for (let o = 0; o < O; o++) {
      const g = a[dyr + o]!;
      if (g === 0) continue;
      if (db >= 0) a[db + o] += g;
      if (dw >= 0) {
        const dwr = dw + o * I;
        for (let i = 0; i < I; i++) a[dwr + i] += g * a[xr + i]!;
      }
      if (dx >= 0) {
        const wr = w + o * I;
        for (let i = 0; i < I; i++) a[dxr + i] += g * a[wr + i]!;
      }
    }
  }
}

/** Naive twin, straight from the definition. */
export function denseForwardRef(a: Float32Array, y: number, x: number, w: number, b: number,
                                B: number, I: number, O: number): void {
  for (let bi = 0; bi < B; bi++) {
    for (let o = 0; o < O; o++) {
      let s = b >= 0 ? a[b + o]! : 0;
      for (let i = 0; i < I; i++) s += a[x + bi * I + i]! * a[w + o * I + i]!;
      a[y + bi * O + o] = s;
    }
  }
}

export function denseBackwardRef(a: Float32Array, dx: number, dw: number, db: number,
                                 dy: number, x: number, w: number, B: number, I: number, O: number): void {
  for (let o = 0; o < O; o++) {
    for (let i = 0; dw >= 0 && i < I; i++) {
      let s = 0;
      for (let bi = 0; bi < B; bi++) s += a[dy + bi * O + o]! * a[x + bi * I + i]!;
      a[dw + o * I + i] += s;
    }
    if (db >= 0) {
      let s = 0;
      for (let bi = 0; bi < B; bi++) s += a[dy + bi * O + o]!;
      a[db + o] += s;
    }
  }
  if (dx >= 0) {
    for (let bi = 0; bi < B; bi++) {
      for (let i = 0; i < I; i++) {
        let s = 0;
        for (let o = 0; o < O; o++) s += a[dy + bi * O + o]! * a[w + o * I + i]!;
        a[dx + bi * I + i] += s;
      }
    }
  }
}
