// where(c, x0, x1): y = c ? x0 : x1 elementwise with broadcasting (broadcast.ts gives the walk;
// c is 0/1 in i32 cells; x0, x1, y are f32 or i32). Values are moved through the Int32Array
// view so integer and float bits pass unchanged. Backward (float) routes dy to the chosen input:
// dx0 += c ? dy : 0, dx1 += c ? 0 : dy, summed over broadcast dims.
// NOTE: moving floats through Float32Array reads may canonicalise NaN payloads; the i32 view does not.

export function whereForward(ia: Int32Array, y: number, c: number, x0: number, x1: number,
                             outer: number, per: number, osc: number, os0: number, os1: number,
                             rank: number, shape: Int32Array, stc: Int32Array, st0: Int32Array, st1: Int32Array,
                             idx: Int32Array): void {
  if (per === 0) return;
  const L = shape[rank - 1]!, sc = stc[rank - 1]!, s0 = st0[rank - 1]!, s1 = st1[rank - 1]!;
  const rows = per / L;
  for (let r = 0; r < outer; r++) {
    let pc = c + r * osc, p0 = x0 + r * os0, p1 = x1 + r * os1, q = y + r * per;
    idx.fill(0);
    for (let k = 0; k < rows; k++) {
      for (let i = 0; i < L; i++) ia[q + i] = ia[pc + i * sc]! !== 0 ? ia[p0 + i * s0]! : ia[p1 + i * s1]!;
      q += L;
      for (let d = rank - 2; d >= 0; d--) {
        idx[d]!++;
        pc += stc[d]!; p0 += st0[d]!; p1 += st1[d]!;
        if (idx[d]! < shape[d]!) break;
        pc -= stc[d]! * shape[d]!; p0 -= st0[d]! * shape[d]!; p1 -= st1[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  }
}

/** dx (of input side 0 = x0, 1 = x1) += dy where the condition picks that side. */
export function whereBackward(a: Float32Array, ia: Int32Array, side: number, dx: number, dy: number, c: number,
                              outer: number, per: number, osc: number, osx: number,
                              rank: number, shape: Int32Array, stc: Int32Array, stx: Int32Array, idx: Int32Array): void {
  if (per === 0) return;
  const L = shape[rank - 1]!, sc = stc[rank - 1]!, sx = stx[rank - 1]!;
  const rows = per / L;
  const want = side === 0 ? 1 : 0;
  for (let r = 0; r < outer; r++) {
    let pc = c + r * osc, px = dx + r * osx, q = dy + r * per;
    idx.fill(0);
    for (let k = 0; k < rows; k++) {
      for (let i = 0; i < L; i++) if ((ia[pc + i * sc]! !== 0 ? 1 : 0) === want) a[px + i * sx] += a[q + i]!;
      q += L;
      for (let d = rank - 2; d >= 0; d--) {
        idx[d]!++;
        pc += stc[d]!; px += stx[d]!;
        if (idx[d]! < shape[d]!) break;
        pc -= stc[d]! * shape[d]!; px -= stx[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  }
}

/** Naive twin for same-shape operands. */
export function whereForwardRef(c: ArrayLike<number>, x0: ArrayLike<number>, x1: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < c.length; i++) out.push(c[i] !== 0 ? x0[i]! : x1[i]!);
  return out;
}
