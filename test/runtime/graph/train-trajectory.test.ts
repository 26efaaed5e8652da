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
import { trainCaseOptimizer, replayTrainCase } from '../../helpers/train-case.js';

const names = casesOfKind('train');

describe.each(['js', 'wasm'] as const)('training trajectories match PyTorch (%s kernels)', (kernels) => {
  it('has cases', () => expect(names.length).toBeGreaterThanOrEqual(5));
  for (const name of names) {
    it(name, () => {
      const c = loadCase(name);
      const X = f32(c.inputs['X']!), y = ints(c.inputs['y']!);
      const N = c.inputs['X']!.shape[0]!, F = c.inputs['X']!.shape[1]!;
      const graph = sequential([F], torchLayers(c, c.inputs, 'init.'));
      const m = compile(graph, { maxBatch: N, loss: { kind: 'cross-entropy' }, optimizer: trainCaseOptimizer(c), kernels });
      expect(m.kernels === null).toBe(kernels === 'js');
      replayTrainCase(c, m);
      m.inputView().set(X);
      m.setTarget(y, N);
      expectClose('final_loss', [m.computeLoss(N)], f32(c.expected['final_loss']!), toleranceFor(c, 'final_loss'));
    });
  }
});
