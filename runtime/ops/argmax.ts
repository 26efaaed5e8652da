// argmax over one axis of x viewed as (outer, C, inner): y (outer, inner) holds the index (i32)
// of the largest value, the first one on ties or the last with selectLast (ONNX
// select_last_index). outer counts the whole run (the executor multiplies by the batch).
// No backward: an index has no gradient.
export function argmaxForward(a: Float32Array, ia: Int32Array, y: number, x: number,
                              outer: number, C: number, inner: number, selectLast: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = x + o * C * inner + j;
      let best = 0, m = a[base]!;
      for (let c = 1; c < C; c++) {
        const v = a[base + c * inner]!;
        if (v > m || (selectLast && v === m)) { m = v; best = c; }
      }
      ia[y + o * inner + j] = best;
    }
  }
}

export function argmaxForwardRef(row: readonly number[], selectLast: boolean): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c]! > row[best]! || (selectLast && row[c] === row[best])) best = c;
  return best;
}
