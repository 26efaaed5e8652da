// Demo part 1: Rosenblatt's perceptron (one sign unit) learns AND and OR, and cannot learn XOR:
// no single line separates XOR's classes, so the rule keeps making errors until its epoch limit.
import { predictPerceptron, trainPerceptron } from '../../../runtime/train/perceptron.js';
import type { DemoOut, DemoPart, DemoPartResult } from './part.js';

const X = [0, 0, 0, 1, 1, 0, 1, 1];
const TABLES: readonly (readonly [string, readonly number[], boolean])[] = [
  ['AND', [-1, -1, -1, 1], true],
  ['OR', [-1, 1, 1, 1], true],
  ['XOR', [-1, 1, 1, -1], false],
];
const MAX_EPOCHS = 100;

function run(out: DemoOut): DemoPartResult {
  out.line(`   one sign unit y = sign(w.x + b); after each wrong output w += lr*(t - y)*x, b += lr*(t - y) (lr 0.1, limit ${MAX_EPOCHS} epochs)`);
  let ok = true;
  const verdicts: string[] = [];
  for (const [name, t, separable] of TABLES) {
    const r = trainPerceptron(X, t, 4, 2, { lr: 0.1, maxEpochs: MAX_EPOCHS });
    const y = predictPerceptron(r, X, 4);
    const right = [0, 1, 2, 3].filter((i) => y[i] === t[i]).length;
    const w = Array.from(r.weights, (v) => +v.toFixed(2)).join(', ');
    if (r.converged) {
      out.line(`   ${name.padEnd(3)}: converged after ${r.epochs} epochs, w = [${w}], b = ${+r.bias[0]!.toFixed(2)}; ${right}/4 correct`);
    } else {
      const tail = Array.from(r.errorsPerEpoch.slice(-5)).join(' ');
      out.line(`   ${name.padEnd(3)}: NO convergence after ${r.epochs} epochs (errors in the last 5 epochs: ${tail}); ${right}/4 correct`);
    }
    out.line(`        x1 x2 | target  output`);
    for (let i = 0; i < 4; i++) {
      out.line(`         ${X[2 * i]}  ${X[2 * i + 1]} | ${String(t[i]).padStart(6)}  ${String(y[i]).padStart(6)}${y[i] === t[i] ? '' : '   <- wrong'}`);
    }
    ok &&= r.converged === separable && (right === 4) === separable;
    verdicts.push(`${name} ${r.converged ? 'learned' : 'not learned'}`);
  }
  out.line('   XOR is not linearly separable: a single layer cannot represent it (Minsky & Papert, 1969).');
  return { ok, summary: verdicts.join(', ') };
}

export const perceptronPart: DemoPart = { name: 'perceptron', title: "Rosenblatt's perceptron: AND, OR, and XOR", run };
