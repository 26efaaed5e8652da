// Rosenblatt's perceptron learning rule for one layer of sign units (a teaching tool: the demo and
// examples show it learning AND and OR, and failing on XOR, which no single layer can separate).
//
//   y = sign(w · x + b)                       the unit (sign as torch.sign: +1, -1, and 0 at 0)
//   w += lr * (t - y) * x,   b += lr * (t - y)  after every sample whose output is wrong
//
// Dimensions: N samples, F features, O output units. x is [N, F], targets are [N, O] row-major
// (O = 1 by default: [N]); weights are [O, F] (PyTorch's nn.Linear layout, so a trained
// perceptron is a `dense` layer followed by a `sign` layer) and bias is [O].
// Targets: ±1, or 0/1 (0 is read as -1; the result is the same rule on ±1 targets). Mixing -1
// and 0 in one target set is refused.
// NOTE: sign(0) = 0 counts as a wrong output, so a sample lying exactly on the boundary still
// moves it (the zero-initialised first update would otherwise never happen for all-zero inputs).
// Samples are visited in order (no shuffle), weights start at zero: the run is deterministic.
// Convergence = an epoch without a single error; for linearly separable data the perceptron
// convergence theorem guarantees it in finitely many updates, otherwise (XOR) training stops at
// maxEpochs with converged = false.
//
// What it is not: arena-planned (it is a few loops over small Float32Arrays; the result arrays
// are allocated once per call, nothing per update), nor multi-layer (see the backprop MLPs).
import { EdgennError } from '../errors.js';

export interface PerceptronOptions {
  /** learning rate (> 0); with zero initial weights any lr gives the same decisions */
  readonly lr: number;
  /** stop after this many epochs without convergence */
  readonly maxEpochs: number;
  /** output units O (targets are [N, O]); default 1 */
  readonly outputs?: number;
}

export interface PerceptronResult {
  /** true when an epoch made no error */
  readonly converged: boolean;
  /** epochs run (the last one is the error-free one when converged) */
  readonly epochs: number;
  /** [O, F] */
  readonly weights: Float32Array;
  /** [O] */
  readonly bias: Float32Array;
  /** number of wrong outputs (over all units) in each epoch run, length = epochs */
  readonly errorsPerEpoch: Int32Array;
}

/** Reads targets as ±1: returns a [N*O] copy; throws on anything but {-1, 1} or {0, 1}. */
function signTargets(y: ArrayLike<number>, count: number): Float32Array {
  let hasNeg = false, hasZero = false;
  for (let i = 0; i < count; i++) {
    const v = y[i]!;
    if (v === -1) hasNeg = true;
    else if (v === 0) hasZero = true;
    else if (v !== 1) {
      throw new EdgennError('DATA', `perceptron target at index ${i} is not -1/+1 or 0/1`, { tensor: 'targets', actual: String(v) });
    }
  }
  if (hasNeg && hasZero) {
    throw new EdgennError('DATA', 'perceptron targets mix -1 and 0', { tensor: 'targets', expected: 'all in {-1, 1} or all in {0, 1}' });
  }
  const t = new Float32Array(count);
  for (let i = 0; i < count; i++) t[i] = y[i] === 1 ? 1 : -1;
  return t;
}

/** sign(v) as torch.sign (and the runtime's sign op): 1, -1, or 0 at 0. */
function signOf(v: number): number {
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/**
 * Trains a single layer of sign units with the perceptron rule.
 * x: [n, features] row-major; y: [n, outputs] targets (±1 or 0/1).
 */
export function trainPerceptron(x: ArrayLike<number>, y: ArrayLike<number>, n: number, features: number,
                                opts: PerceptronOptions): PerceptronResult {
  const O = opts.outputs ?? 1;
  const F = features;
  for (const [k, v] of [['n', n], ['features', F], ['outputs', O], ['maxEpochs', opts.maxEpochs]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new EdgennError('ARG', `perceptron: ${k} must be a positive integer`, { actual: String(v) });
  }
  if (!(opts.lr > 0) || !Number.isFinite(opts.lr)) throw new EdgennError('ARG', 'perceptron: lr must be a finite number > 0', { actual: String(opts.lr) });
  if (x.length < n * F) throw new EdgennError('SHAPE', 'perceptron inputs hold fewer values than n * features', { tensor: 'x', expected: `${n * F}`, actual: `${x.length}` });
  if (y.length < n * O) throw new EdgennError('SHAPE', 'perceptron targets hold fewer values than n * outputs', { tensor: 'targets', expected: `${n * O}`, actual: `${y.length}` });
  for (let i = 0; i < n * F; i++) {
    if (!Number.isFinite(x[i]!)) throw new EdgennError('DATA', `perceptron input at index ${i} is not finite`, { tensor: 'x', actual: String(x[i]) });
  }
  const t = signTargets(y, n * O);
  const xs = Float32Array.from({ length: n * F }, (_, i) => x[i]!);
  const w = new Float32Array(O * F);     // [O, F]
  const b = new Float32Array(O);         // [O]
  const errors = new Int32Array(opts.maxEpochs);
  const lr = opts.lr;
  let epochs = 0;
  let converged = false;
  while (epochs < opts.maxEpochs && !converged) {
    let wrong = 0;
    for (let s = 0; s < n; s++) {
      for (let o = 0; o < O; o++) {
        let net = b[o]!;
        for (let f = 0; f < F; f++) net += w[o * F + f]! * xs[s * F + f]!;
        const out = signOf(net);
        const target = t[s * O + o]!;
        if (out !== target) {
          wrong++;
          const d = lr * (target - out);
          for (let f = 0; f < F; f++) w[o * F + f] = w[o * F + f]! + d * xs[s * F + f]!;
          b[o] = b[o]! + d;
        }
      }
    }
    errors[epochs] = wrong;
    epochs++;
    converged = wrong === 0;
  }
  return { converged, epochs, weights: w, bias: b, errorsPerEpoch: errors.slice(0, epochs) };
}

/** Outputs of a trained perceptron on x [n, F]: [n, O] values in {-1, 0, 1}. */
export function predictPerceptron(p: Pick<PerceptronResult, 'weights' | 'bias'>, x: ArrayLike<number>, n: number): Float32Array {
  const O = p.bias.length;
  const F = p.weights.length / O;
  const out = new Float32Array(n * O);
  for (let s = 0; s < n; s++) {
    for (let o = 0; o < O; o++) {
      let net = p.bias[o]!;
      for (let f = 0; f < F; f++) net += p.weights[o * F + f]! * Number(x[s * F + f]);
      out[s * O + o] = signOf(net);
    }
  }
  return out;
}
