// Matrix product with numpy/ONNX MatMul semantics: A [..., M, K] @ B [..., K, N] -> [..., M, N],
// leading dims broadcast, a 1-D A is [1, K] and a 1-D B is [K, 1] (the added dim is dropped from
// the result); transA/transB (Gemm) transpose the last two dims; alpha scales the product.
// Dimensions: M rows, K contraction, N columns; P matrices per sample (the broadcast leading
// dims); outer = samples of the run. A batched 2-D A ([B, K]) has the batch as its rows: per
// sample M = 1 (how a Gemm over a batch runs). Buffers (arena indices into the f32 view `a`):
//   A at A + r*osA + offA[p], element (m, k) at m*sAm + k*sAk; B likewise with sBk, sBn;
//   Y at Y + r*osY + p*M*N, row-major (M, N).
// Backward accumulates dA += alpha dY Bᵀ and dB += alpha Aᵀ dY (summed over broadcast dims).
// alpha comes as a one-element Float64Array (a double argument would be boxed per call).
// NOTE: sums are carried in doubles and rounded once on store (as dense.ts).
import { EdgennError } from '../errors.js';
import { BATCH } from '../graph/graph.js';
import { broadcastShape } from './broadcast.js';

export interface MatMulGeometry {
  readonly outFull: number[];
  readonly M: number; readonly K: number; readonly N: number;
  readonly P: number;
  readonly offA: Int32Array; readonly offB: Int32Array;
  readonly osA: number; readonly osB: number; readonly osY: number;
  readonly sAm: number; readonly sAk: number; readonly sBk: number; readonly sBn: number;
}

const fmt = (d: readonly number[]): string => `[${d.map((v) => (v === BATCH ? 'B' : String(v))).join(', ')}]`;

/** Shape rule and plan-time walk; throws EdgennError('SHAPE') naming the node. */
export function matmulGeometry(node: string, aFull: readonly number[], bFull: readonly number[],
                               transA: boolean, transB: boolean): MatMulGeometry {
  const bad = (msg: string): never => {
    throw new EdgennError('SHAPE', msg, { node, actual: `${fmt(aFull)} @ ${fmt(bFull)}${transA ? ' (transA)' : ''}${transB ? ' (transB)' : ''}` });
  };
  if (aFull.length === 0 || bFull.length === 0) bad('matmul operands must have at least one dim');
  const dropM = aFull.length === 1, dropN = bFull.length === 1;
  const a = dropM ? [1, aFull[0]!] : [...aFull];
  const b = dropN ? [bFull[0]!, 1] : [...bFull];
  const ra = a.length, rb = b.length;
  // a batched 2-D A: the batch is its row dim
  const batchRows = a[0] === BATCH && ra === 2;
  if (b.slice(-2).includes(BATCH)) bad('matmul cannot contract or index the batch dim of B');
  if (batchRows && transA) bad('matmul cannot transpose a batched 2-D A');
  if (!batchRows && a.slice(-2).includes(BATCH)) bad('matmul cannot contract the batch dim of A');
  const [aM, aK] = transA ? [a[ra - 1]!, a[ra - 2]!] : [a[ra - 2]!, a[ra - 1]!];
  const [bK, bN] = transB ? [b[rb - 1]!, b[rb - 2]!] : [b[rb - 2]!, b[rb - 1]!];
  if (aK !== bK) bad(`matmul inner dims differ (${aK} vs ${bK})`);
  const M = batchRows ? 1 : aM, K = aK, N = bN;
  const leadA = batchRows ? [] : a.slice(0, ra - 2), leadB = b.slice(0, rb - 2);
  const lead = broadcastShape(node, [leadA, leadB]);
  const batched = batchRows || lead[0] === BATCH || (leadB[0] === BATCH);
  if (batchRows && leadB.length > 0) bad('matmul of a batched 2-D A with a stacked B is not supported');
  const perLead = lead[0] === BATCH ? lead.slice(1) : lead;
  const P = perLead.reduce((p, q) => p * q, 1);
  // offsets of each lead matrix of A and B inside one sample
  const offA = new Int32Array(P), offB = new Int32Array(P);
  const walk = (full: readonly number[], mat: number, off: Int32Array): void => {
    const padded = [...new Array(lead.length - full.length).fill(1), ...full];
    const pd = lead[0] === BATCH ? padded.slice(1) : padded;
    for (let p = 0; p < P; p++) {
      let rem = p, o = 0, stride = mat;
      for (let j = perLead.length - 1; j >= 0; j--) {
        const i = rem % perLead[j]!;
        rem = Math.floor(rem / perLead[j]!);
        if (pd[j] !== 1) o += i * stride;
        stride *= pd[j]!;
      }
      off[p] = o;
    }
  };
  walk(leadA, aM * aK, offA);
  walk(leadB, bK * bN, offB);
  const perSize = (full: readonly number[]): number => full.filter((d) => d !== BATCH).reduce((p, q) => p * q, 1);
  const outFull = batchRows ? [BATCH, ...(dropN ? [] : [N])]
    : [...lead, ...(dropM ? [] : [aM]), ...(dropN ? [] : [N])];
  if (!batched && outFull.includes(BATCH)) bad('internal: batch dim in an unbatched product');
  return {
    outFull, M, K, N, P, offA, offB,
    osA: batchRows ? K : (a[0] === BATCH ? perSize(a) : 0),
    osB: b[0] === BATCH ? perSize(b) : 0,
    osY: P * M * N,
    sAm: transA ? 1 : aK, sAk: transA ? aM : 1,
    sBk: transB ? 1 : bN, sBn: transB ? bK : 1,
  };
}

export function matmulForward(a: Float32Array, Y: number, A: number, B: number, outer: number,
                              osA: number, osB: number, osY: number, P: number, offA: Int32Array, offB: Int32Array,
                              M: number, K: number, N: number, sAm: number, sAk: number, sBk: number, sBn: number,
                              alphaArr: Float64Array): void {
  const alpha = alphaArr[0]!;
  for (let r = 0; r < outer; r++) {
    for (let p = 0; p < P; p++) {
      const ab = A + r * osA + offA[p]!, bb = B + r * osB + offB[p]!, yb = Y + r * osY + p * M * N;
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[ab + m * sAm + k * sAk]! * a[bb + k * sBk + n * sBn]!;
          a[yb + m * N + n] = alpha * s;
        }
      }
    }
  }
}

/** dA (or -1) += alpha dY Bᵀ, dB (or -1) += alpha Aᵀ dY, with the forward's geometry. */
export function matmulBackward(a: Float32Array, dA: number, dB: number, dY: number, A: number, B: number, outer: number,
                               osA: number, osB: number, osY: number, P: number, offA: Int32Array, offB: Int32Array,
                               M: number, K: number, N: number, sAm: number, sAk: number, sBk: number, sBn: number,
                               alphaArr: Float64Array): void {
  const alpha = alphaArr[0]!;
  for (let r = 0; r < outer; r++) {
    for (let p = 0; p < P; p++) {
      const oa = r * osA + offA[p]!, ob = r * osB + offB[p]!, yb = dY + r * osY + p * M * N;
      if (dA >= 0) {
        for (let m = 0; m < M; m++) {
          for (let k = 0; k < K; k++) {
            let s = 0;
            for (let n = 0; n < N; n++) s += a[yb + m * N + n]! * a[B + ob + k * sBk + n * sBn]!;
            a[dA + oa + m * sAm + k * sAk] += alpha * s;
          }
        }
      }
      if (dB >= 0) {
        for (let k = 0; k < K; k++) {
          for (let n = 0; n < N; n++) {
            let s = 0;
            for (let m = 0; m < M; m++) s += a[A + oa + m * sAm + k * sAk]! * a[yb + m * N + n]!;
            a[dB + ob + k * sBk + n * sBn] += alpha * s;
          }
        }
      }
    }
  }
}

/** Naive twin: one 2-D product of row-major plain arrays, A (M, K) @ B (K, N). */
export function matmulForwardRef(A: ArrayLike<number>, B: ArrayLike<number>, M: number, K: number, N: number): number[] {
  const y: number[] = [];
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[m * K + k]! * B[k * N + n]!;
      y.push(s);
    }
  }
  return y;
}
