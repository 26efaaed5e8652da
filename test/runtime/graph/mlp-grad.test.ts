// Whole-model gradients against PyTorch: every `mlp_grad` case and the conv1d model case are
// rebuilt from their recorded layers and weights; output, loss, every parameter gradient and
// the input gradient must match within the case's tolerance (abs 1e-5, rel 1e-4: float32
// sums in a different order than PyTorch's GEMM).
import { describe, it, expect } from 'vitest';
import { casesOfKind, loadCase, f32, ints, expectClose, toleranceFor, type RefCase } from '../../helpers/reference.js';
import { torchLayers } from '../../helpers/torch-model.js';
import { sequential } from '../../../runtime/graph/sequential.js';
import { compile } from '../../../runtime/model.js';
import type { LossSpec } from '../../../runtime/losses/spec.js';

function lossOf(c: RefCase): LossSpec {
  const s = String(c.params['loss'] ?? c.description);
  if (s.includes('binary_cross_entropy(')) return { kind: 'bce', reduction: 'mean' };
  if (s.includes('mse_loss')) return { kind: 'mse', reduction: 'mean' };
  if (s.includes('cross_entropy')) return { kind: 'cross-entropy', reduction: 'mean' };
  throw new Error(`unknown loss in ${c.name}`);
}

const names = [...casesOfKind('mlp_grad'), ...casesOfKind('conv1d').filter((n) => loadCase(n).layers !== undefined)];

describe.each(['js', 'wasm'] as const)('model gradients match PyTorch (%s kernels)', (kernels) => {
  it('has cases', () => expect(names.length).toBeGreaterThanOrEqual(5));
  for (const name of names) {
    it(name, () => {
      const c = loadCase(name);
      const x = c.inputs['x']!;
      const B = x.shape[0]!;
      const graph = sequential(x.shape.slice(1), torchLayers(c, c.inputs));
      const loss = lossOf(c);
      const m = compile(graph, { maxBatch: B, loss, inputGrads: true, kernels });
      expect(m.kernels === null).toBe(kernels === 'js');
      const target = c.inputs['target']!;
      m.inputView().set(f32(x));
      m.setTarget(target.dtype === 'int64' ? ints(target) : f32(target), B);
      m.zeroGrad();
      const l = m.computeLoss(B);
      m.backward(B);
      expectClose('output', m.outputView().subarray(0, f32(c.expected['output']!).length), f32(c.expected['output']!), toleranceFor(c, 'output'));
      expectClose('loss', [l], f32(c.expected['loss']!), toleranceFor(c, 'loss'));
      for (const key of Object.keys(c.expected)) {
        if (!key.startsWith('grad.') || key.endsWith('_f64')) continue;
        const p = key.slice(5);
        const actual = p === 'input' ? m.inputGrad().subarray(0, x.data.length) : m.grad(p);
        expectClose(key, actual, f32(c.expected[key]!), toleranceFor(c, key));
      }
    });
  }
});
