// transpose: y = x with its dims permuted. The walk is planned once: the output's per-sample dims
// `shape` (rank of them) and, for each, the stride of the matching input dim, so a run is one
// odometer over the output. outer = samples of the run (1 when unbatched); per = elements per
// sample. Values move through the Int32Array view (bit-exact for f32 and i32 alike).
// Backward (f32) scatters dy back through the same walk: dx[in(i)] += dy[i].

/** Output dims and per-output-dim input strides for a permutation of `dims`. */
export function transposeGeometry(dims: readonly number[], perm: readonly number[]): { shape: Int32Array; strides: Int32Array } {
  const r = dims.length;
  const inStride: number[] = new Array(r).fill(1);
  for (let j = r - 2; j >= 0; j--) inStride[j] = inStride[j + 1]! * dims[j + 1]!;
  if (r === 0) return { shape: Int32Array.of(1), strides: Int32Array.of(0) };
  return { shape: Int32Array.from(perm.map((p) => dims[p]!)), strides: Int32Array.from(perm.map((p) => inStride[p]!)) };
}

export function transposeForward(ia: Int32Array, y: number, x: number, outer: number, per: number,
                                 rank: number, shape: Int32Array, st: Int32Array, idx: Int32Array): void {
  if (per === 0) return;
  const L = shape[rank - 1]!, s = st[rank - 1]!;
  const rows = per / L;
  for (let r = 0; r < outer; r++) {
    let p = x + r * per, q = y + r * per;
    idx.fill(0);
    for (let k = 0; k < rows; k++) {
      for (let i = 0; i < L; i++) ia[q + i] = ia[p + i * s]!;
      q += L;
      for (let d = rank - 2; d >= 0; d--) {
        idx[d]!++;
        p += st[d]!;
        if (idx[d]! < shape[d]!) break;
        p -= st[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  }
}

export function transposeBackward(a: Float32Array, dx: number, dy: number, outer: number, per: number,
                                  rank: number, shape: Int32Array, st: Int32Array, idx: Int32Array): void {
  if (per === 0) return;
  const L = shape[rank - 1]!, s = st[rank - 1]!;
  const rows = per / L;
  for (let r = 0; r < outer; r++) {
    let p = dx + r * per, q = dy + r * per;
    idx.fill(0);
    for (let k = 0; k < rows; k++) {
      for (let i = 0; i < L; i++) a[p + i * s] += a[q + i]!;
      q += L;
      for (let d = rank - 2; d >= 0; d--) {
        idx[d]!++;
        p += st[d]!;
        if (idx[d]! < shape[d]!) break;
        p -= st[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  }
}

/** Naive twin: index arithmetic per element on a plain array. */
export function transposeForwardRef(x: ArrayLike<number>, dims: readonly number[], perm: readonly number[]): number[] {
  const out = perm.map((p) => dims[p]!);
  const n = dims.reduce((p, q) => p * q, 1);
  const y: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    const oi: number[] = [];
    for (let j = out.length - 1; j >= 0; j--) { oi[j] = rem % out[j]!; rem = Math.floor(rem / out[j]!); }
    const ii: number[] = new Array(dims.length);
    perm.forEach((p, j) => { ii[p] = oi[j]!; });
    let off = 0;
    for (let j = 0; j < dims.length; j++) off = off * dims[j]! + ii[j]!;
    y[i] = x[off]!;
  }
  return y;
}
