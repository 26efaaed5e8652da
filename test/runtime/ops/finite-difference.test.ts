// Every differentiable kernel's backward against central finite differences. The kernels index
// any array; here they run on a Float64Array (cast), so the difference quotient is not drowned in
// float32 rounding: objective L = sum(y * r) for a fixed random r, h = 1e-6, tolerance
// abs 1e-6 + rel 1e-5 (truncation error O(h^2) plus float64 cancellation ~1e-10/h).
import { describe, it } from 'vitest';
import { expectClose } from '../../helpers/reference.js';
import { Rng } from '../../../runtime/random.js';
import { denseForward, denseBackward } from '../../../runtime/ops/dense.js';
import { conv1dForward, conv1dBackward, conv1dOutLength } from '../../../runtime/ops/conv1d.js';
import { reluForward, reluBackward } from '../../../runtime/ops/relu.js';
import { leakyReluForward, leakyReluBackward } from '../../../runtime/ops/leaky-relu.js';
import { sigmoidForward, sigmoidBackward } from '../../../runtime/ops/sigmoid.js';
import { tanhForward, tanhBackward } from '../../../runtime/ops/tanh.js';
import { softplusForward, softplusBackward } from '../../../runtime/ops/softplus.js';
import { softmaxForward, softmaxBackward } from '../../../runtime/ops/softmax.js';
import { logSoftmaxForward, logSoftmaxBackward } from '../../../runtime/ops/log-softmax.js';

const TOL = { abs: 1e-6, rel: 1e-5 };
const H = 1e-6;

/**
 * Generic check. Layout of a: [inputs (nIn) | y (nOut) | r (nOut) | grads (nIn)].
 * fwd(a, y) computes y from the inputs at 0..nIn; bwd(a, dy, dIn) accumulates input grads at dIn.
 */
function check(label: string, nIn: number, nOut: number, rng: Rng,
               fwd: (a: Float32Array, y: number) => void,
               bwd: (a: Float32Array, dy: number, dIn: number) => void,
               kinkAt: (v: number) => boolean = () => false): void {
  const a64 = new Float64Array(nIn + 2 * nOut + nIn);
  const a = a64 as unknown as Float32Array;
  const Y = nIn, R = nIn + nOut, D = nIn + 2 * nOut;
  for (let i = 0; i < nIn; i++) { let v = rng.normal(); while (kinkAt(v)) v = rng.normal(); a64[i] = v; }
  for (let i = 0; i < nOut; i++) a64[R + i] = rng.normal();
  const objective = (): number => {
    fwd(a, Y);
    let s = 0;
    for (let i = 0; i < nOut; i++) s += a64[Y + i]! * a64[R + i]!;
    return s;
  };
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
  expectClose(label, analytic, numeric, TOL);
}

describe('backward kernels match central finite differences', () => {
  const rng = new Rng(7);
  for (const [B, I, O, bias] of [[1, 1, 1, true], [3, 5, 4, true], [2, 17, 3, false], [4, 33, 9, true]] as const) {
    it(`dense B=${B} I=${I} O=${O} bias=${bias}`, () => {
      const nx = B * I, nw = O * I, nb = bias ? O : 0;
      check(`dense`, nx + nw + nb, B * O, rng,
        (a, y) => denseForward(a, y, 0, nx, bias ? nx + nw : -1, B, I, O),
        (a, dy, d) => denseBackward(a, d, d + nx, bias ? d + nx + nw : -1, dy, 0, nx, B, I, O));
    });
  }
  for (const [B, C, L, O, K, s, p, dl] of [[1, 1, 8, 2, 3, 1, 0, 1], [2, 3, 13, 4, 5, 2, 1, 1], [2, 2, 11, 3, 3, 1, 2, 2], [1, 2, 9, 2, 4, 3, 1, 1]] as const) {
    it(`conv1d B=${B} C=${C} L=${L} O=${O} K=${K} stride=${s} pad=${p} dil=${dl}`, () => {
      const T = conv1dOutLength(L, K, s, p, dl);
      const nx = B * C * L, nw = O * C * K;
      check('conv1d', nx + nw + O, B * O * T, rng,
        (a, y) => conv1dForward(a, y, 0, nx, nx + nw, B, C, L, O, K, T, s, p, dl),
        (a, dy, d) => conv1dBackward(a, d, d + nx, d + nx + nw, dy, 0, nx, B, C, L, O, K, T, s, p, dl));
    });
  }
  const n = 24;
  const unary: [string, (a: Float32Array, y: number) => void, (a: Float32Array, dy: number, d: number) => void, ((v: number) => boolean)?][] = [
    ['relu', (a, y) => reluForward(a, y, 0, n), (a, dy, d) => reluBackward(a, d, dy, n, n), (v) => Math.abs(v) < 1e-3],
    ['leaky_relu', (a, y) => leakyReluForward(a, y, 0, n, Float64Array.of(0.2)), (a, dy, d) => leakyReluBackward(a, d, dy, 0, n, Float64Array.of(0.2)), (v) => Math.abs(v) < 1e-3],
    ['sigmoid', (a, y) => sigmoidForward(a, y, 0, n), (a, dy, d) => sigmoidBackward(a, d, dy, n, n)],
    ['tanh', (a, y) => tanhForward(a, y, 0, n), (a, dy, d) => tanhBackward(a, d, dy, n, n)],
    ['softplus beta=1', (a, y) => softplusForward(a, y, 0, n, Float64Array.of(1, 20)), (a, dy, d) => softplusBackward(a, d, dy, 0, n, Float64Array.of(1, 20))],
    ['softplus beta=2 threshold=1', (a, y) => softplusForward(a, y, 0, n, Float64Array.of(2, 1)), (a, dy, d) => softplusBackward(a, d, dy, 0, n, Float64Array.of(2, 1)), (v) => Math.abs(v * 2 - 1) < 1e-3],
  ];
  for (const [name, f, b, kink] of unary) it(name, () => check(name, n, n, rng, f, b, kink));
  for (const [outer, C, inner] of [[4, 6, 1], [2, 3, 4], [1, 1, 5]] as const) {
    const m = outer * C * inner;
    it(`softmax (outer ${outer}, C ${C}, inner ${inner})`, () =>
      check('softmax', m, m, rng, (a, y) => softmaxForward(a, y, 0, outer, C, inner), (a, dy, d) => softmaxBackward(a, d, dy, m, outer, C, inner)));
    it(`log_softmax (outer ${outer}, C ${C}, inner ${inner})`, () =>
      check('log_softmax', m, m, rng, (a, y) => logSoftmaxForward(a, y, 0, outer, C, inner), (a, dy, d) => logSoftmaxBackward(a, d, dy, m, outer, C, inner)));
  }
});
