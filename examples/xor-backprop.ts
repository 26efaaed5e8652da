// Example: a 2-2-1 sigmoid MLP learns XOR by backpropagation — the function a single perceptron
// cannot learn. Build with `sequential`, compile once for a batch of 4 (one arena holds weights,
// gradients, optimizer state and activations), then call trainStep in a loop: no allocation.
// Run: npm run build && node build/examples/xor-backprop.js
import { pathToFileURL } from 'node:url';
import { sequential } from '../runtime/graph/sequential.js';
import { compile } from '../runtime/model.js';

export function main(log: (s: string) => void = console.log): { loss: number; outputs: number[] } {
  const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]); // [4, 2]
  const y = Float32Array.from([0, 1, 1, 0]);             // [4, 1]
  const graph = sequential([2], [
    { type: 'dense', out: 2 }, { type: 'sigmoid' },
    { type: 'dense', out: 1 }, { type: 'sigmoid' },
  ], { seed: 0 });
  const model = compile(graph, { maxBatch: 4, loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 2 } });

  for (let epoch = 1; epoch <= 3000; epoch++) {
    model.trainStep(x, y);                 // forward, loss, backward, SGD update
    if (epoch % 500 === 0) log(`epoch ${epoch}: loss ${model.lossView[0]!.toFixed(5)}`);
  }
  const out = model.run(x);                // a view of the output rows: copy what you keep
  for (let i = 0; i < 4; i++) log(`${x[2 * i]} xor ${x[2 * i + 1]} = ${out[i]!.toFixed(3)}`);
  return { loss: model.lossView[0]!, outputs: Array.from(out.subarray(0, 4)) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
