// Two-input elementwise ops with broadcasting (broadcast.ts gives the walk): float add, sub, mul,
// div, pow, max, min and the comparisons equal, greater, less (f32 in, 0/1 in i32 out); the
// integer versions over i32 cells, wrapped to the result type (int32, int8, uint8; IntWrap in
// graph.ts). Dimensions: per output elements per sample, outer = samples of the run (1 when
// unbatched); x0/x1/y/dx/dy are arena indices (f32 view `a` or i32 view `ia` at the same index).
// Backward (float fns only) accumulates into one input's gradient, summing over broadcast dims.
// NOTE: integer division truncates toward zero (ONNX / C semantics, not numpy's floor); a zero
// divisor gives 0 (kernels never throw). Float max/min propagate NaN like numpy.maximum.
// NOTE: d pow / d exponent is 0 where the base is 0 and the exponent >= 0 (PyTorch's masking);
// max/min split the gradient equally on ties (PyTorch's maximum/minimum backward).
import { IntWrap } from '../graph/graph.js';

export const BinaryFn = {
  Add: 0, Sub: 1, Mul: 2, Div: 3, Pow: 4, Max: 5, Min: 6, Equal: 7, Greater: 8, Less: 9,
  IAdd: 10, ISub: 11, IMul: 12, IDiv: 13, IPow: 14, IMax: 15, IMin: 16, IEqual: 17, IGreater: 18, ILess: 19,
} as const;
export type BinaryFnKind = (typeof BinaryFn)[keyof typeof BinaryFn];
export const BINARY_FN_NAMES: readonly string[] = Object.keys(BinaryFn);

export function binaryIsInt(fn: number): boolean { return fn >= BinaryFn.IAdd; }
export function binaryIsCompare(fn: number): boolean {
  return fn === BinaryFn.Equal || fn === BinaryFn.Greater || fn === BinaryFn.Less ||
    fn === BinaryFn.IEqual || fn === BinaryFn.IGreater || fn === BinaryFn.ILess;
}
export function binaryIsDifferentiable(fn: number): boolean { return fn <= BinaryFn.Min; }

export function wrapInt(v: number, wrap: number): number {
  switch (wrap) {
    case IntWrap.I8: return (v << 24) >> 24;
    case IntWrap.U8: return v & 255;
    case IntWrap.Bool: return v !== 0 ? 1 : 0;
    default: return v | 0;
  }
}

function row(a: Float32Array, ia: Int32Array, fn: number, wrap: number, y: number, p0: number, p1: number,
             L: number, s0: number, s1: number): void {
  switch (fn) {
    case BinaryFn.Add: for (let i = 0; i < L; i++) a[y + i] = a[p0 + i * s0]! + a[p1 + i * s1]!; return;
    case BinaryFn.Sub: for (let i = 0; i < L; i++) a[y + i] = a[p0 + i * s0]! - a[p1 + i * s1]!; return;
    case BinaryFn.Mul: for (let i = 0; i < L; i++) a[y + i] = a[p0 + i * s0]! * a[p1 + i * s1]!; return;
    case BinaryFn.Div: for (let i = 0; i < L; i++) a[y + i] = a[p0 + i * s0]! / a[p1 + i * s1]!; return;
    case BinaryFn.Pow: for (let i = 0; i < L; i++) a[y + i] = Math.pow(a[p0 + i * s0]!, a[p1 + i * s1]!); return;
    case BinaryFn.Max:
      for (let i = 0; i < L; i++) { const u = a[p0 + i * s0]!, v = a[p1 + i * s1]!; a[y + i] = u > v || u !== u ? u : v; }
      return;
    case BinaryFn.Min:
      for (let i = 0; i < L; i++) { const u = a[p0 + i * s0]!, v = a[p1 + i * s1]!; a[y + i] = u < v || u !== u ? u : v; }
      return;
    case BinaryFn.Equal: for (let i = 0; i < L; i++) ia[y + i] = a[p0 + i * s0]! === a[p1 + i * s1]! ? 1 : 0; return;
    case BinaryFn.Greater: for (let i = 0; i < L; i++) ia[y + i] = a[p0 + i * s0]! > a[p1 + i * s1]! ? 1 : 0; return;
    case BinaryFn.Less: for (let i = 0; i < L; i++) ia[y + i] = a[p0 + i * s0]! < a[p1 + i * s1]! ? 1 : 0; return;
    case BinaryFn.IAdd: for (let i = 0; i < L; i++) ia[y + i] = wrapInt(ia[p0 + i * s0]! + ia[p1 + i * s1]!, wrap); return;
    case BinaryFn.ISub: for (let i = 0; i < L; i++) ia[y + i] = wrapInt(ia[p0 + i * s0]! - ia[p1 + i * s1]!, wrap); return;
    case BinaryFn.IMul: for (let i = 0; i < L; i++) ia[y + i] = wrapInt(Math.imul(ia[p0 + i * s0]!, ia[p1 + i * s1]!), wrap); return;
    case BinaryFn.IDiv:
      for (let i = 0; i < L; i++) { const d = ia[p1 + i * s1]!; ia[y + i] = d === 0 ? 0 : wrapInt(Math.trunc(ia[p0 + i * s0]! / d), wrap); }
      return;
    case BinaryFn.IPow: for (let i = 0; i < L; i++) ia[y + i] = wrapInt(Math.pow(ia[p0 + i * s0]!, ia[p1 + i * s1]!), wrap); return;
    case BinaryFn.IMax: for (let i = 0; i < L; i++) { const u = ia[p0 + i * s0]!, v = ia[p1 + i * s1]!; ia[y + i] = u > v ? u : v; } return;
    case BinaryFn.IMin: for (let i = 0; i < L; i++) { const u = ia[p0 + i * s0]!, v = ia[p1 + i * s1]!; ia[y + i] = u < v ? u : v; } return;
    case BinaryFn.IEqual: for (let i = 0; i < L; i++) ia[y + i] = ia[p0 + i * s0]! === ia[p1 + i * s1]! ? 1 : 0; return;
    case BinaryFn.IGreater: for (let i = 0; i < L; i++) ia[y + i] = ia[p0 + i * s0]! > ia[p1 + i * s1]! ? 1 : 0; return;
    case BinaryFn.ILess: for (let i = 0; i < L; i++) ia[y + i] = ia[p0 + i * s0]! < ia[p1 + i * s1]! ? 1 : 0; return;
    default: return;
  }
}

/**
 * y (outer, per) = fn(x0, x1) broadcast by the geometry (shape, st0, st1 over rank dims; os0/os1
 * the inputs' strides from one sample to the next).
 */
export function binaryForward(a: Float32Array, ia: Int32Array, fn: number, wrap: number,
                              y: number, x0: number, x1: number, outer: number, per: number, os0: number, os1: number,
                              rank: number, shape: Int32Array, st0: Int32Array, st1: Int32Array, idx: Int32Array): void {
  if (per === 0) return;
  const L = shape[rank - 1]!, s0 = st0[rank - 1]!, s1 = st1[rank - 1]!;
  const rows = per / L;
  for (let r = 0; r < outer; r++) {
    let p0 = x0 + r * os0, p1 = x1 + r * os1, q = y + r * per;
    idx.fill(0);
    for (let k = 0; k < rows; k++) {
      row(a, ia, fn, wrap, q, p0, p1, L, s0, s1);
      q += L;
      for (let d = rank - 2; d >= 0; d--) {
        idx[d]!++;
        p0 += st0[d]!; p1 += st1[d]!;
        if (idx[d]! < shape[d]!) break;
        p0 -= st0[d]! * shape[d]!; p1 -= st1[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  }
}

/** one row of dx_side += dy * d fn / d x_side (float fns); the switch sits outside the loop so
 * no per-element call returns a double (a double returned from a call V8 does not inline is boxed) */
function gradRow(a: Float32Array, fn: number, side: number, dx: number, sd: number, dy: number,
                 p0: number, p1: number, L: number, s0: number, s1: number): void {
  switch (fn) {
    case BinaryFn.Add: for (let i = 0; i < L; i++) a[dx + i * sd] += a[dy + i]!; return;
    case BinaryFn.Sub:
      if (side === 0) for (let i = 0; i < L; i++) a[dx + i * sd] += a[dy + i]!;
      else for (let i = 0; i < L; i++) a[dx + i * sd] -= a[dy + i]!;
      return;
    case BinaryFn.Mul:
      for (let i = 0; i < L; i++) a[dx + i * sd] += a[dy + i]! * (side === 0 ? a[p1 + i * s1]! : a[p0 + i * s0]!);
      return;
    case BinaryFn.Div:
      for (let i = 0; i < L; i++) {
        const u = a[p0 + i * s0]!, v = a[p1 + i * s1]!;
        a[dx + i * sd] += a[dy + i]! * (side === 0 ? 1 / v : -u / (v * v));
      }
      return;
    case BinaryFn.Pow:
      for (let i = 0; i < L; i++) {
        const u = a[p0 + i * s0]!, v = a[p1 + i * s1]!;
        const d = side === 0 ? (v === 0 ? 0 : v * Math.pow(u, v - 1)) : (u === 0 && v >= 0 ? 0 : Math.pow(u, v) * Math.log(u));
        a[dx + i * sd] += a[dy + i]! * d;
      }
      return;
    case BinaryFn.Max: case BinaryFn.Min: {
      const max = fn === BinaryFn.Max;
      for (let i = 0; i < L; i++) {
        const u = a[p0 + i * s0]!, v = a[p1 + i * s1]!;
        const mine = side === 0 ? u : v, other = side === 0 ? v : u;
        const d = mine === other ? 0.5 : (max ? mine > other : mine < other) ? 1 : 0;
        a[dx + i * sd] += a[dy + i]! * d;
      }
      return;
    }
    default: return;
  }
}

/** dx_side += dy * d fn / d x_side, summed over the dims input `side` is broadcast along. */
export function binaryBackward(a: Float32Array, fn: number, side: number, dx: number, dy: number,
                               x0: number, x1: number, outer: number, per: number, os0: number, os1: number,
                               rank: number, shape: Int32Array, st0: Int32Array, st1: Int32Array, idx: Int32Array): void {
  if (per === 0) return;
  const L = shape[rank - 1]!, s0 = st0[rank - 1]!, s1 = st1[rank - 1]!;
  const rows = per / L;
  const sd = side === 0 ? s0 : s1;
  for (let r = 0; r < outer; r++) {
    let o0 = r * os0, o1 = r * os1, q = dy + r * per;
    idx.fill(0);
    for (let k = 0; k < rows; k++) {
      gradRow(a, fn, side, dx + (side === 0 ? o0 : o1), sd, q, x0 + o0, x1 + o1, L, s0, s1);
      q += L;
      for (let d = rank - 2; d >= 0; d--) {
        idx[d]!++;
        o0 += st0[d]!; o1 += st1[d]!;
        if (idx[d]! < shape[d]!) break;
        o0 -= st0[d]! * shape[d]!; o1 -= st1[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  }
}

/** Naive twin on plain arrays with explicit full shapes (numpy broadcasting by index arithmetic). */
export function binaryForwardRef(fn: number, wrap: number, x0: ArrayLike<number>, d0: readonly number[],
                                 x1: ArrayLike<number>, d1: readonly number[], out: readonly number[]): number[] {
  const n = out.reduce((p, q) => p * q, 1);
  const res: number[] = [];
  const at = (x: ArrayLike<number>, d: readonly number[], flat: number): number => {
    let off = 0, stride = 1, rem = flat;
    const idx: number[] = [];
    for (let j = out.length - 1; j >= 0; j--) { idx[j] = rem % out[j]!; rem = Math.floor(rem / out[j]!); }
    for (let j = d.length - 1; j >= 0; j--) {
      const oj = out.length - d.length + j;
      off += (d[j] === 1 ? 0 : idx[oj]!) * stride;
      stride *= d[j]!;
    }
    return x[off]!;
  };
  for (let i = 0; i < n; i++) {
    const u = at(x0, d0, i), v = at(x1, d1, i);
    switch (fn) {
      case BinaryFn.Add: res.push(u + v); break;
      case BinaryFn.Sub: res.push(u - v); break;
      case BinaryFn.Mul: res.push(u * v); break;
      case BinaryFn.Div: res.push(u / v); break;
      case BinaryFn.Pow: res.push(u ** v); break;
      case BinaryFn.Max: res.push(Math.max(u, v)); break;
      case BinaryFn.Min: res.push(Math.min(u, v)); break;
      case BinaryFn.Equal: case BinaryFn.IEqual: res.push(u === v ? 1 : 0); break;
      case BinaryFn.Greater: case BinaryFn.IGreater: res.push(u > v ? 1 : 0); break;
      case BinaryFn.Less: case BinaryFn.ILess: res.push(u < v ? 1 : 0); break;
      case BinaryFn.IAdd: res.push(wrapInt(u + v, wrap)); break;
      case BinaryFn.ISub: res.push(wrapInt(u - v, wrap)); break;
      case BinaryFn.IMul: res.push(wrapInt(Number(BigInt.asIntN(32, BigInt(u) * BigInt(v))), wrap)); break;
      case BinaryFn.IDiv: res.push(v === 0 ? 0 : wrapInt(Math.trunc(u / v), wrap)); break;
      case BinaryFn.IPow: res.push(wrapInt(u ** v, wrap)); break;
      case BinaryFn.IMax: res.push(Math.max(u, v)); break;
      case BinaryFn.IMin: res.push(Math.min(u, v)); break;
      default: res.push(NaN);
    }
  }
  return res;
}
