// concat along one axis, planned as one copy per input: a sample (or the whole tensor when
// unbatched) is `rows` rows; input i contributes `chunk` contiguous elements per row, placed at
// column `off` of output rows `yRow` long. Across the batch rows simply continue (samples are
// contiguous), so the executor passes rows * b. Values move through the Int32Array view.
// Backward (f32): dx_i[r, c] += dy[r, off + c].
import { EdgennError } from '../errors.js';

/** Shape rule over per-sample (or full) dims: all equal except along axis. */
export function concatShape(node: string, dims: readonly (readonly number[])[], axis: number): number[] {
  const first = dims[0]!;
  const out = [...first];
  for (let i = 1; i < dims.length; i++) {
    const d = dims[i]!;
    if (d.length !== first.length || d.some((v, j) => j !== axis && v !== first[j])) {
      throw new EdgennError('SHAPE', `concat input ${i} differs outside the concat axis`,
        { node, expected: `[${first.map((v, j) => (j === axis ? '*' : String(v))).join(', ')}]`, actual: `[${d.join(', ')}]` });
    }
    out[axis] = out[axis]! + d[axis]!;
  }
  return out;
}

export function concatForward(ia: Int32Array, y: number, x: number, rows: number, chunk: number, yRow: number, off: number): void {
  for (let r = 0; r < rows; r++) {
    const yr = y + r * yRow + off, xr = x + r * chunk;
    for (let c = 0; c < chunk; c++) ia[yr + c] = ia[xr + c]!;
  }
}

export function concatBackward(a: Float32Array, dx: number, dy: number, rows: number, chunk: number, yRow: number, off: number): void {
  for (let r = 0; r < rows; r++) {
    const yr = dy + r * yRow + off, xr = dx + r * chunk;
    for (let c = 0; c < chunk; c++) a[xr + c] += a[yr + c]!;
  }
}

/** Naive twin: concatenation of row-major plain arrays along `axis`. */
export function concatForwardRef(xs: readonly ArrayLike<number>[], dims: readonly (readonly number[])[], axis: number): number[] {
  const outer = dims[0]!.slice(0, axis).reduce((p, q) => p * q, 1);
  const inner = dims[0]!.slice(axis + 1).reduce((p, q) => p * q, 1);
  const y: number[] = [];
  for (let o = 0; o < outer; o++) {
    xs.forEach((x, i) => {
      const n = dims[i]![axis]! * inner;
      for (let c = 0; c < n; c++) y.push(x[o * n + c]!);
    });
  }
  return y;
}
