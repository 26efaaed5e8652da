// Replaying a PyTorch `train` reference case on an edgenn model: its optimizer, its batches (or
// the full batch) for its number of steps, then checking per-step losses, the weights after
// step 1 and at the end against the case's expectations and tolerances.
import { f32, ints, expectClose, toleranceFor, type RefCase } from './reference.js';
import type { Model } from '../../runtime/model.js';
import type { OptimizerConfig } from '../../runtime/optim/optimizer.js';

/** The case's torch.optim settings as an edgenn optimizer config. */
export function trainCaseOptimizer(c: RefCase): OptimizerConfig {
  const args = c.params['optimizer_args'] as Record<string, number>;
  const kind = c.params['optimizer'] as string;
  return kind === 'sgd'
    ? { kind: 'sgd', lr: args['lr']!, momentum: args['momentum'] ?? 0, weightDecay: args['weight_decay'] ?? 0,
        dampening: args['dampening'] ?? 0, nesterov: Boolean(args['nesterov'] ?? false) }
    : { kind: kind as 'adam' | 'adamw', lr: args['lr']!, weightDecay: args['weight_decay'] ?? 0 };
}

/** Trains m (compiled with the case's loss and optimizer, maxBatch >= N) step by step and checks
 *  losses, after_step1.* and final.* against the case. */
export function replayTrainCase(c: RefCase, m: Model): void {
  const X = f32(c.inputs['X']!), y = ints(c.inputs['y']!);
  const N = c.inputs['X']!.shape[0]!, F = c.inputs['X']!.shape[1]!;
  const steps = c.params['steps'] as number;
  const batches = c.inputs['batches'];
  const bIdx = batches !== undefined ? ints(batches) : null;
  const bs = batches !== undefined ? batches.shape[1]! : N;
  const xb = new Float32Array(bs * F), yb = new Int32Array(bs);
  const losses: number[] = [];
  for (let t = 0; t < steps; t++) {
    for (let r = 0; r < bs; r++) {
      const i = bIdx !== null ? bIdx[t * bs + r]! : r;
      for (let f = 0; f < F; f++) xb[r * F + f] = X[i * F + f]!;
      yb[r] = y[i]!;
    }
    m.trainStep(xb, yb, bs);
    losses.push(m.lossView[0]!);
    if (t === 0) {
      for (const key of Object.keys(c.expected).filter((k) => k.startsWith('after_step1.') && !k.endsWith('_f64'))) {
        expectClose(key, m.param(key.slice('after_step1.'.length)), f32(c.expected[key]!), toleranceFor(c, key));
      }
    }
  }
  expectClose('losses', losses, f32(c.expected['losses']!), toleranceFor(c, 'losses'));
  for (const key of Object.keys(c.expected).filter((k) => k.startsWith('final.') && !k.endsWith('_f64'))) {
    expectClose(key, m.param(key.slice('final.'.length)), f32(c.expected[key]!), toleranceFor(c, key));
  }
}
