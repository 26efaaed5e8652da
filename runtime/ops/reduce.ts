// reduce (sum, mean) over a set of axes. Planned walk: the input's per-sample dims `shape`
// (rank) and, per input dim, the stride of the output element it lands in (0 along a reduced
// axis). outer = samples (1 when unbatched); perIn / perOut = elements per sample; mean divides by
// count (the reduced elements per output). Backward: dx[i] += dy[out(i)] (/ count for mean).
// NOTE: the output is accumulated in float32 cells; for the small reductions of edge models the
// rounding stays far inside 1e-6 relative.

export const ReduceFn = { Sum: 0, Mean: 1 } as const;

/** Output strides per input dim (0 on reduced axes), for the kept-dims output layout. */
export function reduceGeometry(dims: readonly number[], axes: readonly number[]): { shape: Int32Array; ost: Int32Array; perOut: number; count: number } {
  const r = dims.length;
  const od = dims.map((d, j) => (axes.includes(j) ? 1 : d));
  const ost: number[] = new Array(r).fill(0);
  let s = 1;
  for (let j = r - 1; j >= 0; j--) { ost[j] = axes.includes(j) ? 0 : s; s *= od[j]!; }
  const count = axes.reduce((p, j) => p * dims[j]!, 1);
  if (r === 0) return { shape: Int32Array.of(1), ost: Int32Array.of(0), perOut: 1, count: 1 };
  return { shape: Int32Array.from(dims), ost: Int32Array.from(ost), perOut: s, count };
}

export function reduceForward(a: Float32Array, y: number, x: number, outer: number, perIn: number, perOut: number,
                              rank: number, shape: Int32Array, ost: Int32Array, idx: Int32Array, mean: boolean, count: number): void {
  const scale = mean ? 1 / count : 1;
  a.fill(0, y, y + outer * perOut);
  if (perIn > 0) {
    const L = shape[rank - 1]!, s = ost[rank - 1]!;
    const rows = perIn / L;
    for (let r = 0; r < outer; r++) {
      let p = x + r * perIn, q = y + r * perOut;
      idx.fill(0);
      for (let k = 0; k < rows; k++) {
        if (s === 0) {
          let acc = 0;
          for (let i = 0; i < L; i++) acc += a[p + i]!;
          a[q] += acc;
        } else {
          for (let i = 0; i < L; i++) a[q + i * s] += a[p + i]!;
        }
        p += L;
        for (let d = rank - 2; d >= 0; d--) {
          idx[d]!++;
          q += ost[d]!;
          if (idx[d]! < shape[d]!) break;
          q -= ost[d]! * shape[d]!;
          idx[d] = 0;
        }
      }
    }
  }
  if (scale !== 1) for (let i = 0; i < outer * perOut; i++) a[y + i] = a[y + i]! * scale;
}

export function reduceBackward(a: Float32Array, dx: number, dy: number, outer: number, perIn: number, perOut: number,
                               rank: number, shape: Int32Array, ost: Int32Array, idx: Int32Array, mean: boolean, count: number): void {
  if (perIn === 0) return;
  const scale = mean ? 1 / count : 1;
  const L = shape[rank - 1]!, s = ost[rank - 1]!;
  const rows = perIn / L;
  for (let r = 0; r < outer; r++) {
    let p = dx + r * perIn, q = dy + r * perOut;
    idx.fill(0);
    for (let k = 0; k < rows; k++) {
      for (let i = 0; i < L; i++) a[p + i] += scale * a[q + i * s]!;
      p += L;
      for (let d = rank - 2; d >= 0; d--) {
        idx[d]!++;
        q += ost[d]!;
        if (idx[d]! < shape[d]!) break;
        q -= ost[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  }
}

/** Naive twin: sum (or mean) of a plain row-major array over axes, kept-dims layout. */
export function reduceForwardRef(x: ArrayLike<number>, dims: readonly number[], axes: readonly number[], mean: boolean): number[] {
  const od = dims.map((d, j) => (axes.includes(j) ? 1 : d));
  const n = od.reduce((p, q) => p * q, 1);
  const y: number[] = new Array(n).fill(0);
  const total = dims.reduce((p, q) => p * q, 1);
  for (let i = 0; i < total; i++) {
    let rem = i, o = 0, stride = 1;
    for (let j = dims.length - 1; j >= 0; j--) {
      const c = rem % dims[j]!;
      rem = Math.floor(rem / dims[j]!);
      o += (axes.includes(j) ? 0 : c) * stride;
      stride *= od[j]!;
    }
    y[o] += x[i]!;
  }
  const count = axes.reduce((p, j) => p * dims[j]!, 1);
  return mean ? y.map((v) => v / count) : y;
}
