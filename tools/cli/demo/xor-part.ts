// Demo part 2: what the perceptron cannot do, a hidden layer trained by backpropagation can:
// a 2-2-1 sigmoid MLP learns XOR (MSE loss, plain SGD, full batch of the 4 rows).
import { sequential } from '../../../runtime/graph/sequential.js';
import { compile } from '../../../runtime/model.js';
import type { DemoOut, DemoPart, DemoPartResult } from './part.js';

const X = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);   // [4, 2]
const Y = Float32Array.from([0, 1, 1, 0]);               // [4, 1]
const LR = 2;
const MAX_EPOCHS = 5000;
const TARGET_LOSS = 0.005;

function run(out: DemoOut): DemoPartResult {
  const graph = sequential([2], [
    { type: 'dense', out: 2 }, { type: 'sigmoid' }, { type: 'dense', out: 1 }, { type: 'sigmoid' },
  ], { seed: 0 });
  const model = compile(graph, { maxBatch: 4, loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: LR } });
  out.line(`   2 inputs -> 2 sigmoid units -> 1 sigmoid output; MSE loss, SGD lr ${LR}, all 4 rows per step`);
  const loss = model.lossView;
  let next = 1;
  let epoch = 0;
  for (; epoch < MAX_EPOCHS; epoch++) {
    model.trainStep(X, Y, 4);
    const l = loss[0]!;
    if (epoch + 1 === next || l < TARGET_LOSS) {
      out.line(`   epoch ${String(epoch + 1).padStart(5)}  loss ${l.toFixed(5)}  ${'#'.repeat(Math.round(Math.min(1, l / 0.3) * 40))}`);
      next = next < 100 ? next * 10 : next + 250;
    }
    if (l < TARGET_LOSS) break;
  }
  const y = model.run(X, 4);
  out.line(`   x1 x2 | target  output`);
  let right = 0;
  for (let i = 0; i < 4; i++) {
    const good = (y[i]! > 0.5 ? 1 : 0) === Y[i];
    if (good) right++;
    out.line(`    ${X[2 * i]}  ${X[2 * i + 1]} | ${String(Y[i]).padStart(6)}  ${y[i]!.toFixed(3)}${good ? '' : '   <- wrong'}`);
  }
  const ok = right === 4;
  return { ok, summary: `XOR ${ok ? 'learned' : 'NOT learned'} by backprop in ${Math.min(epoch + 1, MAX_EPOCHS)} epochs` };
}

export const xorPart: DemoPart = { name: 'xor', title: 'Backpropagation: a 2-2-1 sigmoid MLP learns XOR', run };
