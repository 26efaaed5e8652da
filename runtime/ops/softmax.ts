// softmax over one axis. The tensor is viewed as (outer, C, inner): the axis has C entries at
// stride `inner`; outer = product of the dims before the axis (batch included), inner = after it.
// x, y, dx, dy are (outer, C, inner).
// NOTE: the row max is subtracted before exp, so logits of ±1e4 neither overflow nor give NaN.
// Backward uses the output y: dx = y * (g - sum(g*y)).
import { EdgennError } from '../errors.js';

/** Resolves a possibly negative axis against the per-sample dims; throws when out of range. */
export function softmaxAxis(node: string, dims: readonly number[], axis: number): number {
  const r = axis < 0 ? axis + dims.length : axis;
  if (!Number.isInteger(r) || r < 0 || r >= dims.length) {
    throw new EdgennError('SHAPE', 'softmax axis out of range for the per-sample dims',
      { node, expected: `axis in [${-dims.length}, ${dims.length - 1}]`, actual: String(axis) });
  }
  return r;
}

export function softmaxForward(a: Float32Array, y: number, x: number,
                               outer: number, C: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * C * inner + j;
      let m = -Infinity;
      for (let c = 0; c < C; c++) { const v = a[x + base + c * inner]!; if (v > m) m = v; }
      let s = 0;
      for (let c = 0; c < C; c++) { const e = Math.exp(a[x + base + c * inner]! - m); a[y + base + c * inner] = e; s += e; }
      const inv = 1 / s;
      for (let c = 0; c < C; c++) a[y + base + c * inner] = a[y + base + c * inner]! * inv;
    }
  }
}

export function softmaxBackward(a: Float32Array, dx: number, dy: number, y: number,
                                outer: number, C: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * C * inner + j;
      let dot = 0;
      for (let c = 0; c < C; c++) dot += a[dy + base + c * inner]! * a[y + base + c * inner]!;
      for (let c = 0; c < C; c++) {
        const k = base + c * inner;
        a[dx + k] += a[y + k]! * (a[dy + k]! - dot);
      }
    }
  }
}

/** Naive twin over one row of plain numbers. */
export function softmaxForwardRef(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
}
