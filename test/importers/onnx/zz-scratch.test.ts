import { it } from 'vitest';
import { getHeapSpaceStatistics } from 'node:v8';
import { onnxModel, onnxNode, tensorF, tensorI64 } from './onnx-helpers.js';
import { importOnnx } from '../../../importers/onnx/import.js';
import { compile } from '../../../runtime/model.js';
const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
const inits = [tensorF('W', [6, 8], Array.from({ length: 48 }, (_, i) => Math.sin(i))), tensorF('scale', [8], Array.from({ length: 8 }, (_, i) => 1 + i / 8)),
    tensorF('zero', [], [0]), tensorF('slope', [], [0.1]), tensorI64('shape', [3], [0, 2, 4]), tensorI64('idx', [5], [0, 3, 7, 2, 5])];
const variants: [string, ReturnType<typeof onnxNode>[], number][] = [
  ['matmul', [onnxNode('MatMul', ['x', 'W'], ['y'])], 8],
  ['mul', [onnxNode('MatMul', ['x', 'W'], ['h']), onnxNode('Mul', ['h', 'scale'], ['y'])], 8],
  ['where', [onnxNode('MatMul', ['x', 'W'], ['h']), onnxNode('Greater', ['h', 'zero'], ['pos']), onnxNode('Mul', ['h', 'slope'], ['neg']), onnxNode('Where', ['pos', 'h', 'neg'], ['y'])], 8],
  ['transpose', [onnxNode('MatMul', ['x', 'W'], ['h']), onnxNode('Reshape', ['h', 'shape'], ['r']), onnxNode('Transpose', ['r'], ['t'], { perm: [0, 2, 1] }), onnxNode('Reshape', ['t', 'shape8'], ['y'])], 8],
  ['reduce', [onnxNode('MatMul', ['x', 'W'], ['h']), onnxNode('Reshape', ['h', 'shape'], ['r']), onnxNode('ReduceMean', ['r'], ['y'], { axes: [2], keepdims: 0 })], 2],
  ['concat', [onnxNode('MatMul', ['x', 'W'], ['h']), onnxNode('Concat', ['h', 'h'], ['y'], { axis: 1 })], 16],
  ['gather', [onnxNode('MatMul', ['x', 'W'], ['h']), onnxNode('Gather', ['h', 'idx'], ['y'], { axis: 1 })], 5],
  ['exp', [onnxNode('MatMul', ['x', 'W'], ['h']), onnxNode('Exp', ['h'], ['y'])], 8],
  ['softmax', [onnxNode('MatMul', ['x', 'W'], ['h']), onnxNode('Softmax', ['h'], ['y'])], 8],
];
it('bisect', () => {
  for (const [name, nodes, per] of variants) {
    const im = importOnnx(onnxModel({ nodes, inputs: [{ name: 'x', shape: ['batch', 6] }], outputs: [{ name: 'y' }], initializers: [...inits, tensorI64('shape8', [2], [0, 8])], opset: 13 }));
    const m = compile(im.graph, { maxBatch: 3, loss: { kind: 'mse', reduction: 'mean' }, optimizer: { kind: 'sgd', lr: 0.01 } });
    const x = Float32Array.from({ length: 18 }, (_, i) => Math.cos(i)), t = Float32Array.from({ length: 3 * per }, (_, i) => (i % 5) / 5);
    for (let s = 0; s < 3000; s++) m.trainStep(x, t);
    const h0 = newSpace();
    for (let s = 0; s < 2000; s++) m.trainStep(x, t);
    console.log(name, newSpace() - h0);
  }
});
