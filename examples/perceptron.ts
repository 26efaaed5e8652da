// Example: Rosenblatt's perceptron rule on one sign unit. It learns AND and OR (linearly
// separable) and stops without converging on XOR after its epoch limit.
// Run: npm run build && node build/examples/perceptron.js
import { pathToFileURL } from 'node:url';
import { trainPerceptron } from '../runtime/train/perceptron.js';

export function main(log: (s: string) => void = console.log): Record<string, boolean> {
  const x = [0, 0, 0, 1, 1, 0, 1, 1];                       // [4, 2]
  const targets: Record<string, number[]> = {               // 0/1 targets are read as -1/+1
    AND: [0, 0, 0, 1], OR: [0, 1, 1, 1], XOR: [0, 1, 1, 0],
  };
  const converged: Record<string, boolean> = {};
  for (const [name, t] of Object.entries(targets)) {
    const r = trainPerceptron(x, t, 4, 2, { lr: 0.1, maxEpochs: 50 });
    converged[name] = r.converged;
    log(r.converged
      ? `${name}: converged in ${r.epochs} epochs, w = [${Array.from(r.weights).join(', ')}], b = ${r.bias[0]}`
      : `${name}: no convergence after ${r.epochs} epochs (${r.errorsPerEpoch[r.epochs - 1]} errors in the last one)`);
  }
  return converged;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
