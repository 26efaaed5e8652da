// Imported models keep the runtime's promise: after compile, training steps and inferences
// allocate nothing (the kernels added for ONNX ops included: broadcasting binary ops, where,
// matmul, transpose, reduce, concat, gather, conv2d, math). Same detector as
// test/runtime/graph/zero-gc.test.ts: GC events inside the timed window, and V8 new-space growth
// beyond 8 KiB, with the cleanest of three windows as the verdict (an optimizing compile may
// allocate in one window; the loop's own allocation shows in all of them). A control loop that
// allocates must be caught.
// NOTE: one model per test file (= per process, vitest's forks pool), as on a device. Training a
// second, different model in the same process after the first can make V8 re-optimize the shared
// executor with kernels inlined so that ~20 bytes per step get allocated (seen with the imported
// conv model followed by any dense model; gone with --no-turbo-inlining). Reported to the lead.
import { describe, it, expect } from 'vitest';
import { allocated, measureAllocation as measure } from '../../helpers/allocation.js';
import { onnxModel, onnxNode, tensorF, tensorI64 } from './onnx-helpers.js';
import { importOnnx } from '../../../importers/onnx/import.js';
import { compile } from '../../../runtime/model.js';


/** x [batch, 6] -> dense -> *scale -> where(>0, ., 0.1 .) -> [batch, 2, 4] -> transpose -> mean -> concat -> gather -> softmax */
const mixed = () => onnxModel({
  nodes: [
    onnxNode('MatMul', ['x', 'W'], ['h']),
    onnxNode('Mul', ['h', 'scale'], ['hs']),
    onnxNode('Greater', ['hs', 'zero'], ['pos']),
    onnxNode('Mul', ['hs', 'slope'], ['neg']),
    onnxNode('Where', ['pos', 'hs', 'neg'], ['act']),
    onnxNode('Reshape', ['act', 'shape'], ['r']),
    onnxNode('Transpose', ['r'], ['t'], { perm: [0, 2, 1] }),
    onnxNode('ReduceMean', ['t'], ['m'], { axes: [2], keepdims: 0 }),
    onnxNode('Concat', ['m', 'm'], ['c'], { axis: 1 }),
    onnxNode('Gather', ['c', 'idx'], ['g'], { axis: 1 }),
    onnxNode('Exp', ['g'], ['e']),
    onnxNode('Softmax', ['e'], ['y'], { axis: -1 }),
  ],
  inputs: [{ name: 'x', shape: ['batch', 6] }], outputs: [{ name: 'y' }],
  initializers: [tensorF('W', [6, 8], Array.from({ length: 48 }, (_, i) => Math.sin(i))), tensorF('scale', [8], Array.from({ length: 8 }, (_, i) => 1 + i / 8)),
    tensorF('zero', [], [0]), tensorF('slope', [], [0.1]), tensorI64('shape', [3], [0, 2, 4]), tensorI64('idx', [5], [0, 3, 7, 2, 5])],
  opset: 13,
});

describe('imported models allocate nothing in steady state', () => {
  it('a graph of the new ops: 2 000 training steps and 20 000 inferences', async () => {
    const im = importOnnx(mixed());
    const m = compile(im.graph, { maxBatch: 3, loss: { kind: 'mse', reduction: 'mean' }, optimizer: { kind: 'sgd', lr: 0.01 } });
    const x = Float32Array.from({ length: 18 }, (_, i) => Math.cos(i)), t = Float32Array.from({ length: 15 }, (_, i) => (i % 5) / 5);
    const train = await measure(() => { for (let s = 0; s < 2000; s++) m.trainStep(x, t); });
    const inf = compile(im.graph, { maxBatch: 3 });
    const run = await measure(() => { for (let s = 0; s < 20000; s++) inf.run(x); });
    expect(allocated(train), `train ${JSON.stringify(train)}`).toBe(false);
    expect(allocated(run), `run ${JSON.stringify(run)}`).toBe(false);
  });

  it('the detector catches an allocating loop', async () => {
    const im = importOnnx(mixed());
    const inf = compile(im.graph, { maxBatch: 3 });
    const keep: Float32Array[] = [];
    const w = await measure(() => { for (let s = 0; s < 20000; s++) { keep.push(inf.run(new Float32Array(18))); if (keep.length > 64) keep.length = 0; } });
    expect(allocated(w)).toBe(true);
  });
});
