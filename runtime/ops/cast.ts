// cast between the two cell types and integer widths, and copy. n elements (per sample; the
// executor multiplies by the batch when batched).
//   f32 -> f32: copy (float64/float16 source types are already float32 cells)
//   f32 -> i32: truncation toward zero, then wrapped to the result type (IntWrap); to bool: x != 0
//   i32 -> f32: exact for |v| < 2^24, rounded to nearest float32 beyond
//   i32 -> i32: wrapped to the result type (int32 -> int8 keeps the low byte, as C and numpy do)
// Backward exists for f32 -> f32 only (dx += dy). copy moves cells through the Int32Array view
// (bit-exact for both types); its backward is dx += dy.
// NOTE: NaN cast to an integer gives 0 here (undefined behaviour in C, INT_MIN in numpy).
import { IntWrap } from '../graph/graph.js';
import { wrapInt } from './binary.js';

export function castForward(a: Float32Array, ia: Int32Array, fromF32: boolean, toF32: boolean, wrap: number,
                            y: number, x: number, n: number): void {
  if (fromF32 && toF32) { for (let i = 0; i < n; i++) a[y + i] = a[x + i]!; return; }
  if (fromF32) {
    if (wrap === IntWrap.Bool) { for (let i = 0; i < n; i++) ia[y + i] = a[x + i]! !== 0 ? 1 : 0; return; }
    for (let i = 0; i < n; i++) { const v = a[x + i]!; ia[y + i] = v !== v ? 0 : wrapInt(Math.trunc(v), wrap); }
    return;
  }
  if (toF32) { for (let i = 0; i < n; i++) a[y + i] = ia[x + i]!; return; }
  for (let i = 0; i < n; i++) ia[y + i] = wrapInt(ia[x + i]!, wrap);
}

export function castForwardRef(v: number, fromF32: boolean, toF32: boolean, wrap: number): number {
  if (toF32) return Math.fround(v);
  if (fromF32 && wrap === IntWrap.Bool) return v !== 0 ? 1 : 0;
  return Number.isNaN(v) ? 0 : wrapInt(Math.trunc(v), wrap);
}

export function copyForward(ia: Int32Array, y: number, x: number, n: number): void {
  for (let i = 0; i < n; i++) ia[y + i] = ia[x + i]!;
}

/** dx += dy: the backward of copy and of a float-to-float cast */
export function copyBackward(a: Float32Array, dx: number, dy: number, n: number): void {
  for (let i = 0; i < n; i++) a[dx + i] += a[dy + i]!;
}
