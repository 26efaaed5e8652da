// The ops added for imported graphs (unary math, broadcasting binary and where, matmul, transpose,
// concat, gather, reduce, argmax, cast, conv2d, graph NLL, quantization), each checked two ways:
//  1. against its naive twin (xxxForwardRef) on random data. Tolerance: the twins compute in
//     doubles; the kernels store float32: |a - e| <= 1e-6 + 1e-6 |e| (exact for data movement and
//     integer math, where the comparison is exact);
//  2. backward against central finite differences, as finite-difference.test.ts does: kernels run
//     on a Float64Array cast to Float32Array, L = sum(y * r), h = 1e-6, abs 1e-6 + rel 1e-5.
//     Data-moving kernels (transpose, concat, gather, where) copy through the Int32Array view, so
//     for them the check is the adjoint identity <F x, r> = <x, Fᵀ r> (exact for a linear map:
//     finite differences of it are exact too), within 1e-6 relative: float32 data, and gradients
//     of broadcast inputs / repeated indices accumulate in float32 cells.
import { describe, it, expect } from 'vitest';
import { expectClose, mismatch } from '../../helpers/reference.js';
import { Rng } from '../../../runtime/random.js';
import { BATCH, IntWrap } from '../../../runtime/graph/graph.js';
import { mathForward, mathBackward, mathForwardRef, UnaryFn, UNARY_FN_NAMES } from '../../../runtime/ops/unary.js';
import { binaryForward, binaryBackward, binaryForwardRef, BinaryFn, BINARY_FN_NAMES } from '../../../runtime/ops/binary.js';
import { broadcastGeometry, broadcastShape } from '../../../runtime/ops/broadcast.js';
import { whereForward, whereBackward, whereForwardRef } from '../../../runtime/ops/where.js';
import { matmulGeometry, matmulForward, matmulBackward, matmulForwardRef } from '../../../runtime/ops/matmul.js';
import { transposeGeometry, transposeForward, transposeBackward, transposeForwardRef } from '../../../runtime/ops/transpose.js';
import { concatForward, concatBackward, concatForwardRef } from '../../../runtime/ops/concat.js';
import { gatherForward, gatherBackward, gatherForwardRef } from '../../../runtime/ops/gather.js';
import { reduceGeometry, reduceForward, reduceBackward, reduceForwardRef } from '../../../runtime/ops/reduce.js';
import { argmaxForward, argmaxForwardRef } from '../../../runtime/ops/argmax.js';
import { castForward, castForwardRef } from '../../../runtime/ops/cast.js';
import { conv2dForward, conv2dBackward, conv2dForwardRef, conv2dOut } from '../../../runtime/ops/conv2d.js';
import { nllForward, nllBackward, nllForwardRef, NllReduction } from '../../../runtime/ops/nll-loss.js';
import { quantizeForward, dequantizeForward, quantizeLinearRef, dequantizeLinearRef, roundHalfEven } from '../../../runtime/ops/quantize.js';
import { EdgennError } from '../../../runtime/errors.js';

const REF = { abs: 1e-6, rel: 1e-6 };
const FD = { abs: 1e-6, rel: 1e-5 };
const H = 1e-6;
const rng = new Rng(2024);
const randn = (n: number) => Array.from({ length: n }, () => rng.normal());

/** central finite differences of L = sum(y * r) over nIn inputs at a[0..nIn); see finite-difference.test.ts */
function fdCheck(label: string, nIn: number, nOut: number, fwd: (a: Float32Array, y: number) => void,
                 bwd: (a: Float32Array, dy: number, d: number) => void, init?: (i: number) => number,
                 extra = 0, setup?: (a64: Float64Array, at: number) => void): void {
  const a64 = new Float64Array(nIn + 2 * nOut + nIn + extra);
  setup?.(a64, nIn + 2 * nOut + nIn);
  const a = a64 as unknown as Float32Array;
  const Y = nIn, R = nIn + nOut, D = nIn + 2 * nOut;
  for (let i = 0; i < nIn; i++) a64[i] = init !== undefined ? init(i) : rng.normal();
  for (let i = 0; i < nOut; i++) a64[R + i] = rng.normal();
  const objective = (): number => { fwd(a, Y); let s = 0; for (let i = 0; i < nOut; i++) s += a64[Y + i]! * a64[R + i]!; return s; };
  objective();
  bwd(a, R, D);
  const analytic = a64.slice(D, D + nIn);
  const numeric = new Float64Array(nIn);
  for (let i = 0; i < nIn; i++) {
    const v = a64[i]!;
    a64[i] = v + H; const up = objective();
    a64[i] = v - H; const dn = objective();
    a64[i] = v;
    numeric[i] = (up - dn) / (2 * H);
  }
  expectClose(label, analytic, numeric, FD);
}

/** <F x, r> = <x, Fᵀ r> for a data-moving kernel; layout [x (nIn) | y (nOut) | r (nOut) | dx (nIn)] */
function adjointCheck(label: string, nIn: number, nOut: number, fwd: (a: Float32Array, ia: Int32Array, y: number) => void,
                      bwd: (a: Float32Array, ia: Int32Array, dy: number, dx: number) => void, extra = 0): void {
  const buf = new ArrayBuffer(4 * (nIn + 2 * nOut + nIn + extra));
  const a = new Float32Array(buf), ia = new Int32Array(buf);
  const Y = nIn, R = nIn + nOut, D = nIn + 2 * nOut;
  for (let i = 0; i < nIn; i++) a[i] = rng.normal();
  for (let i = 0; i < nOut; i++) a[R + i] = rng.normal();
  fwd(a, ia, Y);
  bwd(a, ia, R, D);
  let lhs = 0, rhs = 0;
  for (let i = 0; i < nOut; i++) lhs += a[Y + i]! * a[R + i]!;
  for (let i = 0; i < nIn; i++) rhs += a[i]! * a[D + i]!;
  // NOTE: gradients accumulate in float32 cells (duplicate indices, broadcast inputs): 1e-6 relative
  expect(Math.abs(lhs - rhs), label).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(lhs)));
}

describe('unary math', () => {
  const params: Record<number, [number, number]> = {
    [UnaryFn.Elu]: [0.7, 0], [UnaryFn.Selu]: [1.6732632, 1.0507009], [UnaryFn.HardSigmoid]: [0.2, 0.5],
    [UnaryFn.Clip]: [-0.5, 0.8], [UnaryFn.Scale]: [1.5, -0.25],
  };
  const positive = new Set<number>([UnaryFn.Log, UnaryFn.Sqrt]);
  for (let fn = 0; fn < UNARY_FN_NAMES.length; fn++) {
    const [p0, p1] = params[fn] ?? [0, 0];
    const n = 40;
    const gen = (i: number) => { const v = rng.normal() * 2.5; return positive.has(fn) ? Math.abs(v) + 0.1 : (i === 0 ? -7 : v); };
    it(`${UNARY_FN_NAMES[fn]}: kernel vs twin`, () => {
      const x = Array.from({ length: n }, (_, i) => Math.fround(gen(i)));
      const a = new Float32Array(2 * n);
      a.set(x);
      mathForward(a, fn, n, 0, n, Float64Array.of(p0, p1));
      expectClose(UNARY_FN_NAMES[fn]!, a.subarray(n), x.map((v) => mathForwardRef(fn, v, p0, p1)), REF);
    });
    it(`${UNARY_FN_NAMES[fn]}: backward vs finite differences`, () => {
      // keep away from the kinks (clip bounds, hard sigmoid / swish corners, abs at 0)
      const kinks = [0, p0, p1, -3, 3, (-p1) / (p0 || 1), (1 - p1) / (p0 || 1)];
      const init = (i: number) => { let v = gen(i); while (kinks.some((k) => Math.abs(v - k) < 1e-3)) v = gen(i + 1); return v; };
      fdCheck(UNARY_FN_NAMES[fn]!, n, n, (a, y) => mathForward(a, fn, y, 0, n, Float64Array.of(p0, p1)), (a, dy, d) => mathBackward(a, fn, d, dy, 0, n, Float64Array.of(p0, p1)), init);
    });
  }
});

/** full dims with -1 = batch; the batch of the test run is `b` */
const shapesCases: [number[], number[], number][] = [
  [[3, 4], [3, 4], 1], [[3, 4], [4], 1], [[2, 1, 4], [3, 1], 1], [[], [2, 3], 1], [[BATCH, 5], [5], 3],
  [[BATCH, 2, 3], [1, 3], 2], [[BATCH, 4], [BATCH, 4], 2], [[BATCH, 3, 1], [BATCH, 1, 2], 2],
];
const concrete = (d: number[], b: number) => d.map((v) => (v === BATCH ? b : v));
const count = (d: number[]) => d.reduce((p, q) => p * q, 1);

describe('binary with broadcasting', () => {
  for (const [s0, s1, b] of shapesCases) {
    const out = broadcastShape('t', [s0, s1]);
    const g = broadcastGeometry(out, [s0, s1]);
    const outer = out[0] === BATCH ? b : 1;
    const n0 = count(concrete(s0, b)), n1 = count(concrete(s1, b)), ny = count(concrete(out, b));
    for (const fn of [BinaryFn.Add, BinaryFn.Sub, BinaryFn.Mul, BinaryFn.Div, BinaryFn.Pow, BinaryFn.Max, BinaryFn.Min, BinaryFn.Greater, BinaryFn.IAdd, BinaryFn.IMul, BinaryFn.IDiv, BinaryFn.ILess]) {
      const label = `${BINARY_FN_NAMES[fn]} [${s0}] with [${s1}] (batch ${b})`;
      const isInt = fn >= BinaryFn.IAdd;
      it(`${label}: kernel vs twin`, () => {
        const buf = new ArrayBuffer(4 * (n0 + n1 + ny));
        const a = new Float32Array(buf), ia = new Int32Array(buf);
        const gen = (i: number) => (isInt ? Math.round(rng.normal() * 50) : fn === BinaryFn.Pow && i < n0 ? Math.abs(rng.normal()) + 0.1 : rng.normal());
        const x0 = Array.from({ length: n0 }, (_, i) => gen(i)), x1 = Array.from({ length: n1 }, (_, i) => gen(n0 + i) || 3);
        (isInt ? ia : a).set(x0, 0);
        (isInt ? ia : a).set(x1, n0);
        binaryForward(a, ia, fn, IntWrap.I8, n0 + n1, 0, n0, outer, g.per, g.outerStride[0]!, g.outerStride[1]!, g.rank, g.shape, g.strides[0]!, g.strides[1]!, g.idx);
        const want = binaryForwardRef(fn, IntWrap.I8, (isInt ? ia : a).subarray(0, n0), concrete(s0, b), (isInt ? ia : a).subarray(n0, n0 + n1), concrete(s1, b), concrete(out, b));
        const got = fn === BinaryFn.Greater || isInt ? ia.subarray(n0 + n1) : a.subarray(n0 + n1);
        expect(mismatch(got, want, isInt || fn === BinaryFn.Greater ? { abs: 0, rel: 0 } : REF), label).toBeNull();
      });
      if (fn > BinaryFn.Min) continue;
      it(`${label}: backward vs finite differences`, () => {
        const init = (i: number) => (fn === BinaryFn.Pow && i < n0 ? Math.abs(rng.normal()) + 0.2 : fn === BinaryFn.Div && i >= n0 ? rng.normal() + (rng.next() < 0.5 ? -2 : 2) : rng.normal());
        fdCheck(label, n0 + n1, ny, (a, y) => binaryForward(a, a as unknown as Int32Array, fn, 0, y, 0, n0, outer, g.per, g.outerStride[0]!, g.outerStride[1]!, g.rank, g.shape, g.strides[0]!, g.strides[1]!, g.idx),
          (a, dy, d) => {
            binaryBackward(a, fn, 0, d, dy, 0, n0, outer, g.per, g.outerStride[0]!, g.outerStride[1]!, g.rank, g.shape, g.strides[0]!, g.strides[1]!, g.idx);
            binaryBackward(a, fn, 1, d + n0, dy, 0, n0, outer, g.per, g.outerStride[0]!, g.outerStride[1]!, g.rank, g.shape, g.strides[0]!, g.strides[1]!, g.idx);
          }, init);
      });
    }
  }
  it('integer wrap-around: int8 and uint8 arithmetic wrap like the type', () => {
    const buf = new ArrayBuffer(12), ia = new Int32Array(buf), a = new Float32Array(buf);
    const g = broadcastGeometry([1], [[1], [1]]);
    ia[0] = 100; ia[1] = 100;
    binaryForward(a, ia, BinaryFn.IAdd, IntWrap.I8, 2, 0, 1, 1, 1, 0, 0, g.rank, g.shape, g.strides[0]!, g.strides[1]!, g.idx);
    expect(ia[2]).toBe(-56);
    ia[0] = 3; ia[1] = 5;
    binaryForward(a, ia, BinaryFn.ISub, IntWrap.U8, 2, 0, 1, 1, 1, 0, 0, g.rank, g.shape, g.strides[0]!, g.strides[1]!, g.idx);
    expect(ia[2]).toBe(254);
    ia[0] = -7; ia[1] = 2;
    binaryForward(a, ia, BinaryFn.IDiv, IntWrap.I32, 2, 0, 1, 1, 1, 0, 0, g.rank, g.shape, g.strides[0]!, g.strides[1]!, g.idx);
    expect(ia[2]).toBe(-3); // truncation toward zero
  });
  it('refuses shapes that do not broadcast, and a fixed dim against the batch', () => {
    expect(() => broadcastShape('n', [[3, 4], [2, 4]])).toThrow(EdgennError);
    expect(() => broadcastShape('n', [[BATCH, 4], [5, 4]])).toThrow(/batch dimension/);
    expect(() => broadcastShape('n', [[BATCH, 4], [2, 1, 4]])).toThrow(/leading/);
  });
});

describe('where', () => {
  for (const [sc, sx, sy, b] of [[[3, 4], [3, 4], [3, 4], 1], [[BATCH, 4], [4], [BATCH, 1], 2], [[2, 1], [1, 3], [2, 3], 1]] as [number[], number[], number[], number][]) {
    const out = broadcastShape('w', [sc, sx, sy]);
    const g = broadcastGeometry(out, [sc, sx, sy]);
    const outer = out[0] === BATCH ? b : 1;
    const nc = count(concrete(sc, b)), nx = count(concrete(sx, b)), ny = count(concrete(sy, b)), no = count(concrete(out, b));
    it(`[${sc}] ? [${sx}] : [${sy}]: twin (same shapes) and adjoint`, () => {
      if (sc.join() === sx.join() && sx.join() === sy.join()) {
        const buf = new ArrayBuffer(4 * (nc + nx + ny + no));
        const a = new Float32Array(buf), ia = new Int32Array(buf);
        for (let i = 0; i < nc; i++) ia[i] = rng.next() < 0.5 ? 1 : 0;
        for (let i = 0; i < nx + ny; i++) a[nc + i] = rng.normal();
        whereForward(ia, nc + nx + ny, 0, nc, nc + nx, outer, g.per, g.outerStride[0]!, g.outerStride[1]!, g.outerStride[2]!, g.rank, g.shape, g.strides[0]!, g.strides[1]!, g.strides[2]!, g.idx);
        expect(Array.from(a.subarray(nc + nx + ny))).toEqual(whereForwardRef(ia.subarray(0, nc), a.subarray(nc, nc + nx), a.subarray(nc + nx, nc + nx + ny)));
      }
      // adjoint in x (side 0) and y (side 1) with a fixed condition stored after the buffers
      for (const side of [0, 1]) {
        const nIn = side === 0 ? nx : ny;
        const cAt = nIn + 2 * no + nIn, other = cAt + nc;
        adjointCheck(`where side ${side}`, nIn, no, (a, ia, y) => {
          for (let i = 0; i < nc; i++) ia[cAt + i] = (i * 7919) % 3 === 0 ? 1 : 0;
          for (let i = 0; i < (side === 0 ? ny : nx); i++) a[other + i] = 0;
          whereForward(ia, y, cAt, side === 0 ? 0 : other, side === 0 ? other : 0, outer, g.per, g.outerStride[0]!, g.outerStride[1]!, g.outerStride[2]!,
            g.rank, g.shape, g.strides[0]!, g.strides[1]!, g.strides[2]!, g.idx);
        }, (a, ia, dy, dx) => {
          whereBackward(a, ia, side, dx, dy, cAt, outer, g.per, g.outerStride[0]!, g.outerStride[side + 1]!, g.rank, g.shape, g.strides[0]!, g.strides[side + 1]!, g.idx);
        }, nc + Math.max(nx, ny));
      }
    });
  }
});

describe('matmul', () => {
  const ALPHA = Float64Array.of(1.5);
  const cases: [number[], number[], boolean, boolean, number][] = [
    [[3, 4], [4, 5], false, false, 1], [[4, 3], [5, 4], true, true, 1], [[2, 3, 4], [4, 2], false, false, 1],
    [[2, 1, 3, 4], [3, 4, 2], false, false, 1], [[4], [4, 3], false, false, 1], [[2, 3, 4], [4], false, false, 1],
    [[BATCH, 4], [4, 3], false, false, 3], [[BATCH, 4], [3, 4], false, true, 2], [[BATCH, 2, 4], [4, 3], false, false, 2],
  ];
  for (const [sa, sb, ta, tb, b] of cases) {
    const g = matmulGeometry('m', sa, sb, ta, tb);
    const outer = g.outFull[0] === BATCH ? b : 1;
    const na = count(concrete(sa, b)), nb = count(concrete(sb, b)), ny = count(concrete(g.outFull, b));
    const label = `[${sa}]${ta ? 'ᵀ' : ''} @ [${sb}]${tb ? 'ᵀ' : ''} (batch ${b}) -> [${g.outFull}]`;
    it(`${label}: kernel vs twin`, () => {
      const a = new Float32Array(na + nb + ny);
      a.set(randn(na + nb));
      matmulForward(a, na + nb, 0, na, outer, g.osA, g.osB, g.osY, g.P, g.offA, g.offB, g.M, g.K, g.N, g.sAm, g.sAk, g.sBk, g.sBn, ALPHA);
      // twin: per (sample, lead) matrix, gather A and B by their strides
      const want: number[] = [];
      for (let r = 0; r < outer; r++) for (let p = 0; p < g.P; p++) {
        const A: number[] = [], B: number[] = [];
        for (let m = 0; m < g.M; m++) for (let k = 0; k < g.K; k++) A.push(a[r * g.osA + g.offA[p]! + m * g.sAm + k * g.sAk]!);
        for (let k = 0; k < g.K; k++) for (let n = 0; n < g.N; n++) B.push(a[na + r * g.osB + g.offB[p]! + k * g.sBk + n * g.sBn]!);
        want.push(...matmulForwardRef(A, B, g.M, g.K, g.N).map((v) => 1.5 * v));
      }
      expectClose(label, a.subarray(na + nb), want, REF);
    });
    it(`${label}: backward vs finite differences`, () => {
      fdCheck(label, na + nb, ny, (a, y) => matmulForward(a, y, 0, na, outer, g.osA, g.osB, g.osY, g.P, g.offA, g.offB, g.M, g.K, g.N, g.sAm, g.sAk, g.sBk, g.sBn, ALPHA),
        (a, dy, d) => matmulBackward(a, d, d + na, dy, 0, na, outer, g.osA, g.osB, g.osY, g.P, g.offA, g.offB, g.M, g.K, g.N, g.sAm, g.sAk, g.sBk, g.sBn, ALPHA));
    });
  }
  it('refuses contradictions', () => {
    expect(() => matmulGeometry('m', [3, 4], [5, 2], false, false)).toThrow(/inner dims/);
    expect(() => matmulGeometry('m', [4, BATCH], [BATCH, 2], false, false)).toThrow(EdgennError);
  });
});

describe('data movement: transpose, concat, gather', () => {
  for (const [dims, perm, outer] of [[[2, 3, 4], [2, 0, 1], 1], [[3, 5], [1, 0], 2], [[2, 2, 3, 2], [0, 3, 1, 2], 3], [[4], [0], 1]] as [number[], number[], number][]) {
    it(`transpose [${dims}] by [${perm}] x ${outer}: twin and adjoint`, () => {
      const per = count(dims);
      const t = transposeGeometry(dims, perm);
      const idx = new Int32Array(t.shape.length);
      const buf = new ArrayBuffer(8 * per * outer);
      const a = new Float32Array(buf), ia = new Int32Array(buf);
      a.set(randn(per * outer));
      transposeForward(ia, per * outer, 0, outer, per, t.shape.length, t.shape, t.strides, idx);
      for (let r = 0; r < outer; r++) {
        expect(Array.from(a.subarray(per * outer + r * per, per * outer + (r + 1) * per))).toEqual(transposeForwardRef(a.subarray(r * per, (r + 1) * per), dims, perm));
      }
      adjointCheck('transpose', per * outer, per * outer, (a2, ia2, y) => transposeForward(ia2, y, 0, outer, per, t.shape.length, t.shape, t.strides, idx),
        (a2, _ia, dy, dx) => transposeBackward(a2, dx, dy, outer, per, t.shape.length, t.shape, t.strides, idx));
    });
  }
  it('concat along axis 1 of [2, 3, 2] and [2, 1, 2]: twin and adjoint', () => {
    const d0 = [2, 3, 2], d1 = [2, 1, 2], rows = 2, inner = 2, yRow = 4 * inner;
    const buf = new ArrayBuffer(4 * 32);
    const a = new Float32Array(buf), ia = new Int32Array(buf);
    a.set(randn(16));
    concatForward(ia, 16, 0, rows, 3 * inner, yRow, 0);
    concatForward(ia, 16, 12, rows, 1 * inner, yRow, 3 * inner);
    expect(Array.from(a.subarray(16))).toEqual(concatForwardRef([a.subarray(0, 12), a.subarray(12, 16)], [d0, d1], 1));
    adjointCheck('concat input 1', 4, 16, (a2, ia2, y) => { concatForward(ia2, y, 0, rows, inner, yRow, 3 * inner); for (let r = 0; r < rows; r++) for (let c = 0; c < 3 * inner; c++) a2[y + r * yRow + c] = 0; },
      (a2, _ia, dy, dx) => concatBackward(a2, dx, dy, rows, inner, yRow, 3 * inner));
  });
  it('gather (negative indices, 2-D indices): twin and adjoint', () => {
    const outer = 2, D = 5, inner = 3, ind = [4, -1, 0, 2, 2, -5];
    const nx = outer * D * inner, ny = outer * ind.length * inner;
    const buf = new ArrayBuffer(4 * (nx + ny + ind.length));
    const a = new Float32Array(buf), ia = new Int32Array(buf);
    a.set(randn(nx));
    ia.set(ind, nx + ny);
    gatherForward(ia, nx, 0, nx + ny, outer, D * inner, 0, ind.length, D, inner);
    expect(Array.from(a.subarray(nx, nx + ny))).toEqual(gatherForwardRef(a.subarray(0, nx), outer, D, inner, ind));
    adjointCheck('gather', nx, ny, (_a, ia2, y) => { ia2.set(ind, nx + 2 * ny + nx); gatherForward(ia2, y, 0, nx + 2 * ny + nx, outer, D * inner, 0, ind.length, D, inner); },
      (a2, ia2, dy, dx) => gatherBackward(a2, ia2, dx, dy, nx + 2 * ny + nx, outer, D * inner, 0, ind.length, D, inner), ind.length);
  });
});

describe('reduce, argmax, cast', () => {
  for (const [dims, axes, outer] of [[[2, 3, 4], [1], 1], [[2, 3, 4], [0, 2], 2], [[5], [0], 3], [[2, 3], [], 1], [[3, 1, 2], [1], 1]] as [number[], number[], number][]) {
    for (const mean of [false, true]) {
      const g = reduceGeometry(dims, axes);
      const per = count(dims);
      it(`reduce ${mean ? 'mean' : 'sum'} [${dims}] over [${axes}] x ${outer}: twin and finite differences`, () => {
        const a = new Float32Array(per * outer + g.perOut * outer);
        a.set(randn(per * outer));
        reduceForward(a, per * outer, 0, outer, per, g.perOut, g.shape.length, g.shape, g.ost, new Int32Array(g.shape.length), mean, g.count);
        const want: number[] = [];
        for (let r = 0; r < outer; r++) want.push(...reduceForwardRef(a.subarray(r * per, (r + 1) * per), dims, axes, mean));
        expectClose('reduce', a.subarray(per * outer), want, REF);
        fdCheck('reduce', per * outer, g.perOut * outer, (a2, y) => reduceForward(a2, y, 0, outer, per, g.perOut, g.shape.length, g.shape, g.ost, new Int32Array(g.shape.length), mean, g.count),
          (a2, dy, d) => reduceBackward(a2, d, dy, outer, per, g.perOut, g.shape.length, g.shape, g.ost, new Int32Array(g.shape.length), mean, g.count));
      });
    }
  }
  it('argmax: first or last index on ties, over (outer, C, inner)', () => {
    const buf = new ArrayBuffer(4 * 16);
    const a = new Float32Array(buf), ia = new Int32Array(buf);
    a.set([1, 5, 5, 2, /* */ 0, 0, 0, 0]);          // (outer 2, C 4, inner 1)
    argmaxForward(a, ia, 8, 0, 2, 4, 1, false);
    argmaxForward(a, ia, 10, 0, 2, 4, 1, true);
    expect(Array.from(ia.subarray(8, 12))).toEqual([1, 0, 2, 3]);
    expect(argmaxForwardRef([1, 5, 5, 2], false)).toBe(1);
    expect(argmaxForwardRef([1, 5, 5, 2], true)).toBe(2);
  });
  it('cast: truncation, wrap to int8 / uint8 / bool, int to float', () => {
    const buf = new ArrayBuffer(4 * 16);
    const a = new Float32Array(buf), ia = new Int32Array(buf);
    const xs = [2.7, -2.7, 300.5, -129.2];
    for (const [wrap, name] of [[IntWrap.I32, 'i32'], [IntWrap.I8, 'i8'], [IntWrap.U8, 'u8'], [IntWrap.Bool, 'bool']] as const) {
      a.set(xs);
      castForward(a, ia, true, false, wrap, 4, 0, 4);
      expect(Array.from(ia.subarray(4, 8)), name).toEqual(xs.map((v) => castForwardRef(v, true, false, wrap)));
    }
    expect(castForwardRef(300.5, true, false, IntWrap.I8)).toBe(44);
    ia.set([7, -3]);
    castForward(a, ia, false, true, 0, 4, 0, 2);
    expect(Array.from(a.subarray(4, 6))).toEqual([7, -3]);
  });
});

describe('conv2d', () => {
  const cases: [number, number, number, number, number, number, number, number, number, number, number][] = [
    // N, C, H, W, O, KH, KW, stride, pad(t,l,b,r as one), dilation, group
    [1, 1, 5, 5, 1, 3, 3, 1, 1, 1, 1], [2, 2, 6, 5, 3, 3, 2, 2, 0, 1, 1], [1, 4, 5, 5, 4, 3, 3, 1, 1, 2, 2], [2, 3, 1, 9, 2, 1, 3, 2, 1, 1, 1],
  ];
  for (const [N, C, H, W, O, KH, KW, s, p, dl, G] of cases) {
    const pt = KH > 1 ? p : 0;
    const OH = conv2dOut(H, KH, KH > 1 ? s : 1, pt, pt, dl), OW = conv2dOut(W, KW, s, p, p, dl);
    const sh = KH > 1 ? s : 1;
    const label = `N${N} C${C} ${H}x${W} O${O} k${KH}x${KW} s${s} p${p} d${dl} g${G}`;
    const nx = N * C * H * W, nw = O * (C / G) * KH * KW, ny = N * O * OH * OW;
    it(`${label}: backward vs finite differences`, () => {
      fdCheck(label, nx + nw + O, ny, (a, y) => conv2dForward(a, y, 0, nx, nx + nw, N, C, H, W, O, KH, KW, OH, OW, sh, s, pt, p, dl, dl, G),
        (a, dy, d) => conv2dBackward(a, d, d + nx, d + nx + nw, dy, 0, nx, N, C, H, W, O, KH, KW, OH, OW, sh, s, pt, p, dl, dl, G));
    });
    if (G !== 1 || dl !== 1 || KH === 1) continue;
    it(`${label}: kernel vs twin`, () => {
      const a = new Float32Array(nx + nw + O + ny);
      a.set(randn(nx + nw + O));
      conv2dForward(a, nx + nw + O, 0, nx, nx + nw, N, C, H, W, O, KH, KW, OH, OW, s, s, p, p, 1, 1, 1);
      const want: number[] = [];
      for (let n = 0; n < N; n++) want.push(...conv2dForwardRef(a.subarray(n * C * H * W, (n + 1) * C * H * W), a.subarray(nx, nx + nw), a.subarray(nx + nw, nx + nw + O), C, H, W, O, KH, KW, s, p));
      expectClose(label, a.subarray(nx + nw + O), want, REF);
    });
  }
});

describe('graph NLL', () => {
  for (const [N, C, D, red, ii, weighted] of [[3, 4, 1, 'mean', null, false], [2, 3, 4, 'mean', 1, true], [2, 5, 3, 'sum', -1, true], [4, 3, 2, 'none', 0, false]] as const) {
    const label = `N${N} C${C} D${D} ${red} ignore ${ii} ${weighted ? 'weighted' : ''}`;
    const reduction = red === 'none' ? NllReduction.None : red === 'sum' ? NllReduction.Sum : NllReduction.Mean;
    const nl = N * C * D, nt = N * D, ny = red === 'none' ? nt : 1;
    const target = Array.from({ length: nt }, (_, i) => (i % 4 === 3 && ii !== null ? ii : (i * 7) % C));
    const w = Array.from({ length: C }, (_, c) => 0.5 + c);
    it(`${label}: twin and finite differences`, () => {
      // layout: logp | y | (r) | (grads) | target | weight, in one buffer so the i32 view shares it
      const extra = nt + C;
      const buf = new ArrayBuffer(8 * (nl + 2 * ny + nl + extra));
      const a = new Float32Array(buf), ia = new Int32Array(buf);
      const T = nl + ny, Wt = T + nt;
      a.set(randn(nl));
      ia.set(target, T);
      a.set(w, Wt);
      nllForward(a, ia, nl, 0, T, weighted ? Wt : -1, N, C, D, reduction, ii !== null, ii ?? 0);
      expectClose(label, a.subarray(nl, nl + ny), nllForwardRef(a.subarray(0, nl), target, weighted ? w : null, N, C, D, red, ii), REF);
      // finite differences on a Float64 buffer (weights after the gradients); targets in their own i32 array
      const i32 = Int32Array.from(target);
      const wAt = nl + 2 * ny + nl;
      fdCheck(label, nl, ny, (a2, y) => nllForward(a2, i32, y, 0, 0, weighted ? wAt : -1, N, C, D, reduction, ii !== null, ii ?? 0),
        (a2, dy, d) => nllBackward(a2, i32, d, dy, 0, weighted ? wAt : -1, N, C, D, reduction, ii !== null, ii ?? 0),
        undefined, C, (a64, at) => { for (let c = 0; c < C; c++) a64[at + c] = w[c]!; });
    });
  }
});

describe('quantize / dequantize', () => {
  it('round half to even, saturation, per tensor and per axis, vs the twins', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
    const x = [-100, -0.03125, 0.03125, 0.09375, 0.2, 100, 1, -1];
    const buf = new ArrayBuffer(4 * 64);
    const a = new Float32Array(buf), ia = new Int32Array(buf);
    a.set(x);
    a[16] = 0.0625; ia[17] = 128;                      // per tensor scale, zero point
    quantizeForward(a, ia, 20, 0, 16, 17, 1, 8, 1, 0, 0, 0, 255);
    expect(Array.from(ia.subarray(20, 28))).toEqual(x.map((v) => quantizeLinearRef(v, 0.0625, 128, 0, 255)));
    dequantizeForward(a, ia, 30, 20, 16, 17, 1, 8, 1, 0, 0);
    expect(Array.from(a.subarray(30, 38))).toEqual(Array.from(ia.subarray(20, 28)).map((q) => dequantizeLinearRef(q, 0.0625, 128)));
    // per axis: x (2, 4) with scales per column (axis 1)
    a.set([0.1, 0.2, 0.3, 0.4], 40); ia.set([0, 1, -1, 2], 44);
    quantizeForward(a, ia, 50, 0, 40, 44, 2, 4, 1, 1, 0, -128, 127);
    const want = x.map((v, i) => quantizeLinearRef(v, Math.fround([0.1, 0.2, 0.3, 0.4][i % 4]!), [0, 1, -1, 2][i % 4]!, -128, 127));
    expect(Array.from(ia.subarray(50, 58))).toEqual(want);
  });
});
