// Multidirectional (numpy / ONNX) broadcasting: the shape rule, and the plan-time geometry that
// lets elementwise kernels (binary.ts, where.ts) walk any broadcast with one odometer and a
// contiguous inner row. It is NOT a kernel. Shapes here are *full* dims: a batched value carries
// BATCH (-1) as its leading dim; BATCH broadcasts with 1 and with itself only, and must end up as
// the leading dim of the result (a fixed dim meeting the batch axis is a shape contradiction).
import { EdgennError } from '../errors.js';
import { BATCH } from '../graph/graph.js';

const fmt = (d: readonly number[]): string => `[${d.map((v) => (v === BATCH ? 'B' : String(v))).join(', ')}]`;

/** The broadcast result of full shapes; throws EdgennError('SHAPE') naming the node. */
export function broadcastShape(node: string, shapes: readonly (readonly number[])[]): number[] {
  const R = Math.max(...shapes.map((s) => s.length));
  const out: number[] = new Array(R).fill(1);
  for (const s of shapes) {
    for (let j = 0; j < s.length; j++) {
      const k = R - s.length + j;
      const d = s[j]!, o = out[k]!;
      if (d === o || d === 1) continue;
      if (o === 1) { out[k] = d; continue; }
      throw new EdgennError('SHAPE', d === BATCH || o === BATCH
        ? 'the batch dimension meets a fixed dimension in a broadcast'
        : 'shapes do not broadcast', { node, expected: 'dims equal or 1 (numpy broadcasting)', actual: shapes.map(fmt).join(' with ') });
    }
  }
  if (out.indexOf(BATCH) > 0) {
    throw new EdgennError('SHAPE', 'the batch dimension would not be the leading dim of the result',
      { node, expected: 'batched operands of the highest rank', actual: shapes.map(fmt).join(' with ') });
  }
  return out;
}

/** Plan-time walk of a broadcast: per sample, `rank` collapsed dims `shape`; input k advances by
 * strides[k][d] along dim d and by outerStride[k] from one sample to the next (0 = unbatched). */
export interface BroadcastGeometry {
  /** output elements per sample (or in total when unbatched) */
  readonly per: number;
  readonly rank: number;
  readonly shape: Int32Array;
  readonly strides: readonly Int32Array[];
  readonly outerStride: readonly number[];
  /** odometer scratch, rank entries (written by kernels; one per instruction) */
  readonly idx: Int32Array;
}

export function broadcastGeometry(outFull: readonly number[], inFull: readonly (readonly number[])[]): BroadcastGeometry {
  const R = outFull.length;
  const batched = R > 0 && outFull[0] === BATCH;
  const od = batched ? outFull.slice(1) : [...outFull];
  const r = od.length;
  const outerStride: number[] = [];
  const st: number[][] = [];
  for (const s of inFull) {
    const padded = [...new Array(R - s.length).fill(1), ...s];
    const pd = batched ? padded.slice(1) : padded;
    let stride = 1;
    const strides: number[] = new Array(r).fill(0);
    for (let j = r - 1; j >= 0; j--) {
      strides[j] = pd[j] === 1 ? 0 : stride;
      stride *= pd[j]!;
    }
    outerStride.push(batched && padded[0] === BATCH ? stride : 0);
    st.push(strides);
  }
  // drop size-1 output dims, then merge neighbours that are contiguous for every operand
  const keep: number[] = [];
  for (let j = 0; j < r; j++) if (od[j] !== 1) keep.push(j);
  const shape: number[] = [];
  const strides: number[][] = st.map(() => []);
  for (const j of keep) {
    const last = shape.length - 1;
    const mergeable = last >= 0 && st.every((s, k) => strides[k]![last] === s[j]! * od[j]!);
    if (mergeable) {
      shape[last] = shape[last]! * od[j]!;
      st.forEach((s, k) => { strides[k]![last] = s[j]!; });
    } else {
      shape.push(od[j]!);
      st.forEach((s, k) => { strides[k]!.push(s[j]!); });
    }
  }
  if (shape.length === 0) { shape.push(1); strides.forEach((s) => s.push(0)); }
  let per = 1;
  for (const d of od) per *= d;
  return {
    per, rank: shape.length, shape: Int32Array.from(shape), strides: strides.map((s) => Int32Array.from(s)),
    outerStride, idx: new Int32Array(shape.length),
  };
}
