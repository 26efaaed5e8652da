// Activation kernels against PyTorch (every `activation` case: special values ±1e4, ±88.72,
// ±20 thresholds, ±0, denormal-range inputs), against their naive twins, and forward-only units
// (step, sign) exactly. Tolerances are the cases' own (abs 1e-6, rel 1e-5; 0 for step/sign).
import { describe, it, expect } from 'vitest';
import { casesOfKind, loadCase, f32, expectClose, toleranceFor } from '../../helpers/reference.js';
import { reluForward, reluBackward, reluForwardRef } from '../../../runtime/ops/relu.js';
import { leakyReluForward, leakyReluBackward, leakyReluForwardRef } from '../../../runtime/ops/leaky-relu.js';
import { sigmoidForward, sigmoidBackward, sigmoidForwardRef } from '../../../runtime/ops/sigmoid.js';
import { tanhForward, tanhBackward, tanhForwardRef } from '../../../runtime/ops/tanh.js';
import { softplusForward, softplusBackward, softplusForwardRef } from '../../../runtime/ops/softplus.js';
import { stepForward, stepForwardRef } from '../../../runtime/ops/step.js';
import { signForward, signForwardRef } from '../../../runtime/ops/sign.js';
import { softmaxForward, softmaxBackward, softmaxForwardRef } from '../../../runtime/ops/softmax.js';
import { logSoftmaxForward, logSoftmaxBackward, logSoftmaxForwardRef } from '../../../runtime/ops/log-softmax.js';

/** arena layout for one case: x | y | g | dx, each n floats */
function run(fn: string, x: Float32Array, g: Float32Array | null, params: Record<string, unknown>, rowLen: number):
  { y: Float32Array; dx: Float32Array | null } {
  const n = x.length;
  const a = new Float32Array(4 * n);
  a.set(x, 0);
  if (g !== null) a.set(g, 2 * n);
  const X = 0, Y = n, G = 2 * n, DX = 3 * n;
  const rows = n / rowLen;
  const slope = Number(/negative_slope=([\d.e-]+)/.exec(String(params['torch_call']))?.[1] ?? 0.01);
  const beta = Number(/beta=([\d.e-]+)/.exec(String(params['torch_call']))?.[1] ?? 1);
  const thr = Number(/threshold=([\d.e-]+)/.exec(String(params['torch_call']))?.[1] ?? 20);
  let back = true;
  switch (fn) {
    case 'relu': reluForward(a, Y, X, n); reluBackward(a, DX, G, Y, n); break;
    case 'leaky_relu': leakyReluForward(a, Y, X, n, Float64Array.of(slope)); leakyReluBackward(a, DX, G, X, n, Float64Array.of(slope)); break;
    case 'sigmoid': sigmoidForward(a, Y, X, n); sigmoidBackward(a, DX, G, Y, n); break;
    case 'tanh': tanhForward(a, Y, X, n); tanhBackward(a, DX, G, Y, n); break;
    case 'softplus': softplusForward(a, Y, X, n, Float64Array.of(beta, thr)); softplusBackward(a, DX, G, X, n, Float64Array.of(beta, thr)); break;
    case 'step': stepForward(a, Y, X, n); back = false; break;
    case 'sign': signForward(a, Y, X, n); back = false; break;
    case 'softmax': softmaxForward(a, Y, X, rows, rowLen, 1); softmaxBackward(a, DX, G, Y, rows, rowLen, 1); break;
    case 'log_softmax': logSoftmaxForward(a, Y, X, rows, rowLen, 1); logSoftmaxBackward(a, DX, G, Y, rows, rowLen, 1); break;
    default: throw new Error(`unknown activation ${fn}`);
  }
  return { y: a.slice(Y, Y + n), dx: back ? a.slice(DX, DX + n) : null };
}

const names = casesOfKind('activation');

describe('activations match PyTorch', () => {
  it('covers every activation the runtime has', () => expect(names.length).toBeGreaterThanOrEqual(9));
  for (const name of names) {
    it(name, () => {
      const c = loadCase(name);
      const fn = String(c.params['function']);
      const xt = c.inputs['x']!;
      const rowLen = xt.shape[xt.shape.length - 1]!;
      const g = c.inputs['g'] !== undefined ? f32(c.inputs['g']!) : null;
      const { y, dx } = run(fn, f32(xt), g, c.params, rowLen);
      expectClose(`${name} y`, y, f32(c.expected['y']!), toleranceFor(c, 'y'));
      if (c.expected['dx'] !== undefined) {
        expect(dx).not.toBeNull();
        expectClose(`${name} dx`, dx!, f32(c.expected['dx']!), toleranceFor(c, 'dx'));
      }
    });
  }
});

describe('activations match their naive twins', () => {
  // tolerance abs 1e-6 + rel 1e-6: the twin computes in float64 from the definition
  const xs = Float32Array.from({ length: 200 }, (_, i) => (i - 100) * 0.37 + Math.sin(i) * 0.01);
  const tol = { abs: 1e-6, rel: 1e-6 };
  const cases: [string, (v: number) => number][] = [
    ['relu', reluForwardRef], ['leaky_relu', (v) => leakyReluForwardRef(v, 0.01)], ['sigmoid', sigmoidForwardRef],
    ['tanh', tanhForwardRef], ['softplus', (v) => softplusForwardRef(v, 1, 20)], ['step', stepForwardRef], ['sign', signForwardRef],
  ];
  for (const [fn, ref] of cases) {
    it(fn, () => {
      const { y } = run(fn, xs, new Float32Array(xs.length), { torch_call: '' }, xs.length);
      expectClose(fn, y, Array.from(xs, ref), tol);
    });
  }
  it('softmax and log_softmax rows', () => {
    const rowLen = 7;
    const { y } = run('softmax', xs.slice(0, 196), null, {}, rowLen);
    const { y: ly } = run('log_softmax', xs.slice(0, 196), null, {}, rowLen);
    for (let r = 0; r < 28; r++) {
      const row = Array.from(xs.slice(r * rowLen, (r + 1) * rowLen));
      expectClose(`softmax row ${r}`, y.slice(r * rowLen, (r + 1) * rowLen), softmaxForwardRef(row), tol);
      expectClose(`log_softmax row ${r}`, ly.slice(r * rowLen, (r + 1) * rowLen), logSoftmaxForwardRef(row), tol);
    }
  });
});
