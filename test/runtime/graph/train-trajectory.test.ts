// Training trajectories against PyTorch: every `train` case is rerun step by step from its
// recorded initial weights, with its optimizer and its batches. Per-step losses, the weights
// after step 1 and at the end, and the final full-dataset loss must match within the case's
// tolerance (abs 1e-5, rel 1e-4: float32 drift over up to 50 steps; the cases report
// PyTorch's own f32-vs-f64 drift below 4e-7).
import { describe, it, expect } from 'vitest';
import { casesOfKind, loadCase, f32, ints, expectClose, toleranceFor } from '../../helpers/reference.js';
import { torchLayers } from '../../helpers/torch-model.js';
import { sequential } from '../../../runtime/graph/sequential.js';
import { compile } from '../../../runtime/model.js';
import type { OptimizerConfig } from '../../../runtime/optim/optimizer.js';

const names = casesOfKind('train');

describe.each(['js', 'wasm'] as const)('training trajectories match PyTorch (%s kernels)', (kernels) => {
  it('has cases', () => expect(names.length).toBeGreaterThanOrEqual(5));
  for (const name of names) {
    it(name, () => {
      const c = loadCase(name);
      const X = f32(c.inputs['X']!);
      const y = ints(c.inputs['y']!);
      const N = c.inputs['X']!.shape[0]!, F = c.inputs['X']!.shape[1]!;
      const args = c.params['optimizer_args'] as Record<string, number>;
      const kind = c.params['optimizer'] as string;
      const optimizer: OptimizerConfig = kind === 'sgd'
        ? { kind: 'sgd', lr: args['lr']!, momentum: args['momentum'] ?? 0, weightDecay: args['weight_decay'] ?? 0,
            dampening: args['dampening'] ?? 0, nesterov: Boolean(args['nesterov'] ?? false) }
        : { kind: kind as 'adam' | 'adamw', lr: args['lr']!, weightDecay: args['weight_decay'] ?? 0 };
      const graph = sequential([F], torchLayers(c, c.inputs, 'init.'));
      const m = compile(graph, { maxBatch: N, loss: { kind: 'cross-entropy' }, optimizer, kernels });
      expect(m.kernels === null).toBe(kernels === 'js');
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
      m.inputView().set(X);
      m.setTarget(y, N);
      expectClose('final_loss', [m.computeLoss(N)], f32(c.expected['final_loss']!), toleranceFor(c, 'final_loss'));
    });
  }
});
