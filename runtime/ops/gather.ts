// gather along one axis: y[o, j, i] = x[o, ind[j], i] with x viewed as (rows, D, inner) and the
// indices as nInd entries per row. Three planned cases share one kernel through strides:
//   data batched, indices fixed:   rows = b * (dims before the axis), xRow = D*inner, indRow = 0
//   data fixed, indices batched:   rows = b, xRow = 0, indRow = nInd (embedding lookup, axis 0)
//   both unbatched:                rows = dims before the axis, indRow = 0
// Negative indices count from the end (ONNX); an index still outside [0, D) yields zeros (a
// kernel never throws; the importer checks constant indices). Values move through the i32 view.
// Backward (f32 data) scatter-adds: dx[o, ind[j], i] += dy[o, j, i].

export function gatherForward(ia: Int32Array, y: number, x: number, ind: number, rows: number,
                              xRow: number, indRow: number, nInd: number, D: number, inner: number): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + r * xRow, ir = ind + r * indRow, yr = y + r * nInd * inner;
    for (let j = 0; j < nInd; j++) {
      let k = ia[ir + j]!;
      if (k < 0) k += D;
      const yo = yr + j * inner;
      if (k < 0 || k >= D) { for (let i = 0; i < inner; i++) ia[yo + i] = 0; continue; }
      const xo = xr + k * inner;
      for (let i = 0; i < inner; i++) ia[yo + i] = ia[xo + i]!;
    }
  }
}

export function gatherBackward(a: Float32Array, ia: Int32Array, dx: number, dy: number, ind: number, rows: number,
                               xRow: number, indRow: number, nInd: number, D: number, inner: number): void {
  for (let r = 0; r < rows; r++) {
    const xr = dx + r * xRow, ir = ind + r * indRow, yr = dy + r * nInd * inner;
    for (let j = 0; j < nInd; j++) {
      let k = ia[ir + j]!;
      if (k < 0) k += D;
      if (k < 0 || k >= D) continue;
      const xo = xr + k * inner, yo = yr + j * inner;
      for (let i = 0; i < inner; i++) a[xo + i] += a[yo + i]!;
    }
  }
}

/** Naive twin on plain arrays: x (outer, D, inner), flat indices. */
export function gatherForwardRef(x: ArrayLike<number>, outer: number, D: number, inner: number, ind: readonly number[]): number[] {
  const y: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const j of ind) {
      const k = j < 0 ? j + D : j;
      for (let i = 0; i < inner; i++) y.push(x[(o * D + k) * inner + i]!);
    }
  }
  return y;
}
