// Fine-tuning imported models against PyTorch. Every reference case of kind mlp_grad or conv1d
// that ships an .onnx file is imported *from the file* (weights are the file's initializers, not
// the JSON's) and compiled with the case's loss: output, loss, every parameter gradient and the
// input gradient must match PyTorch within the case's tolerance (abs 1e-5, rel 1e-4: float32 sums
// in another order than PyTorch's GEMM). Exports that add a trailing Softmax for a cross-entropy
// case are trained on the logits (the graph cut before the Softmax), as the case describes.
// The `trainable` option is checked on the same models: frozen layers get no gradient slot and do
// not move under an optimizer step, trained ones do.
import { describe, it, expect } from 'vitest';
import { f32, ints, expectClose, toleranceFor, type RefCase } from '../../helpers/reference.js';
import { referenceOnnxCases } from './onnx-helpers.js';
import { importOnnx, type TrainableSpec } from '../../../importers/onnx/import.js';
import { loadModelFile } from '../../../importers/onnx/decode.js';
import { compile } from '../../../runtime/model.js';
import type { LossSpec } from '../../../runtime/losses/spec.js';
import { EdgennError } from '../../../runtime/errors.js';
import { casesOfKind, loadCase } from '../../helpers/reference.js';
import { torchLayers } from '../../helpers/torch-model.js';
import { sequential } from '../../../runtime/graph/sequential.js';
import { exportOnnxBytes } from '../../../importers/onnx/export.js';
import { trainCaseOptimizer, replayTrainCase } from '../../helpers/train-case.js';

function lossOf(c: RefCase): LossSpec {
  const s = String(c.params['loss'] ?? c.description);
  if (s.includes('binary_cross_entropy(')) return { kind: 'bce', reduction: 'mean' };
  if (s.includes('mse_loss')) return { kind: 'mse', reduction: 'mean' };
  if (s.includes('cross_entropy')) return { kind: 'cross-entropy', reduction: 'mean' };
  throw new Error(`unknown loss in ${c.name}`);
}

/** The value before a trailing Softmax / LogSoftmax of the graph's output, when there is one. */
function logitsOf(file: string): string[] | undefined {
  const m = loadModelFile(file);
  const out = m.graph.outputs[0]!.name;
  const last = m.graph.nodes.find((n) => n.outputs.includes(out));
  return last !== undefined && last.opType === 'Softmax' ? [last.inputs[0]!] : undefined;
}

const cases = referenceOnnxCases().filter((r) => r.kind === 'mlp_grad' || r.kind === 'conv1d');

describe('imported ONNX models train like PyTorch', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(5));
  for (const rc of cases) {
    it(`${rc.caseName}: output, loss and gradients from the .onnx weights`, () => {
      const c = rc.c;
      const loss = lossOf(c);
      const cut = loss.kind === 'cross-entropy' ? logitsOf(rc.file) : undefined;
      const im = importOnnx(rc.file, cut !== undefined ? { outputs: cut } : {});
      const x = c.inputs['x']!;
      const B = x.shape[0]!;
      const m = compile(im.graph, { maxBatch: B, loss, inputGrads: true });
      const target = c.inputs['target']!;
      m.inputView().set(f32(x));
      m.setTarget(target.dtype === 'int64' ? ints(target) : f32(target), B);
      m.zeroGrad();
      const l = m.computeLoss(B);
      m.backward(B);
      expectClose('output', m.outputView().subarray(0, c.expected['output']!.data.length), f32(c.expected['output']!), toleranceFor(c, 'output'));
      expectClose('loss', [l], f32(c.expected['loss']!), toleranceFor(c, 'loss'));
      let grads = 0;
      for (const key of Object.keys(c.expected)) {
        if (!key.startsWith('grad.') || key.endsWith('_f64')) continue;
        const p = key.slice(5);
        const actual = p === 'input' ? m.inputGrad().subarray(0, x.data.length) : m.grad(p);
        expectClose(key, actual, f32(c.expected[key]!), toleranceFor(c, key));
        grads++;
      }
      expect(grads).toBeGreaterThanOrEqual(3);
    });

    it(`${rc.caseName}: trainable selection (none, last layer, by name)`, () => {
      const c = rc.c;
      const loss = lossOf(c);
      const cut = loss.kind === 'cross-entropy' ? logitsOf(rc.file) : undefined;
      const base = cut !== undefined ? { outputs: cut } : {};
      const x = f32(c.inputs['x']!);
      const B = c.inputs['x']!.shape[0]!;
      const target = c.inputs['target']!;
      const t = target.dtype === 'int64' ? ints(target) : f32(target);
      const run = (trainable: TrainableSpec) => {
        const im = importOnnx(rc.file, { ...base, trainable });
        const m = compile(im.graph, { maxBatch: B, loss, optimizer: { kind: 'sgd', lr: 0.1 } });
        const before = new Map(m.paramNames().map((n) => [n, Float32Array.from(m.param(n))]));
        m.trainStep(x, t, B);
        const moved = m.paramNames().filter((n) => m.param(n).some((v, i) => v !== before.get(n)![i]));
        return { im, moved };
      };
      const all = run('all');
      expect(all.im.layers.every((l) => l.trainable)).toBe(true);
      expect(all.moved.length).toBeGreaterThan(0);
      expect(run('none').moved).toEqual([]);
      const last = run({ lastLayers: 1 });
      const lastParams = last.im.layers[last.im.layers.length - 1]!.params;
      expect(last.moved.every((n) => lastParams.includes(n))).toBe(true);
      expect(last.moved.length).toBeGreaterThan(0);
      const first = all.im.layers[0]!;
      const byName = run({ names: [first.node] });
      expect(byName.moved.every((n) => first.params.includes(n))).toBe(true);
      expect(() => run({ names: ['no-such-layer'] })).toThrow(EdgennError);
    });
  }
});

// `train` cases ship no .onnx: their initial model is exported to ONNX by edgenn, imported back and
// trained with the case's optimizer and batches; per-step losses and the weights after step 1 and
// at the end must match PyTorch within the case's tolerance (abs 1e-5, rel 1e-4).

describe('training trajectories of models that went through ONNX', () => {
  const names = casesOfKind('train');
  it('has cases', () => expect(names.length).toBeGreaterThanOrEqual(5));
  for (const name of names) {
    for (const opset of [13, 17] as const) {
      it(`${name} (opset ${opset})`, () => {
        const c = loadCase(name);
        const N = c.inputs['X']!.shape[0]!, F = c.inputs['X']!.shape[1]!;
        const bytes = exportOnnxBytes(sequential([F], torchLayers(c, c.inputs, 'init.')), { opset });
        const im = importOnnx(bytes);
        replayTrainCase(c, compile(im.graph, { maxBatch: N, loss: { kind: 'cross-entropy' }, optimizer: trainCaseOptimizer(c) }));
      });
    }
  }
});
