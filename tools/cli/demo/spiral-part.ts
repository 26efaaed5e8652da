// Demo part 3: a small classifier on a built-in 2-D spiral (3 classes, seeded), trained with Adam
// by the runtime's trainer: epoch / loss / accuracy lines, the arena report (bytes by category
// against the analytic lower bound), training-health signals (gradient norms per layer, dead
// ReLUs) and the learned decision regions drawn in text.
import { sequential } from '../../../runtime/graph/sequential.js';
import { compile, type Model } from '../../../runtime/model.js';
import { fit } from '../../../runtime/train/trainer.js';
import type { HealthRecord } from '../../../runtime/train/types.js';
import { makeSpiral } from './datasets.js';
import { arenaLine, type DemoOut, type DemoPart, type DemoPartResult } from './part.js';

const PER_CLASS = 100;
const CLASSES = 3;
const HIDDEN = 32;
const EPOCHS = 60;
const BATCH = 32;
const LR = 0.01;
const MARKS = ['.', 'o', '+'];

function healthLines(h: HealthRecord, step: number): string[] {
  const layers = h.layers.map((l) => `${l.param} ${l.gradNorm.toExponential(1)}`).join(', ');
  const acts = h.activations.map((a) => `layer ${a.node} ${(a.fraction * 100).toFixed(0)}%`).join(', ');
  return [
    `   health at step ${step}: gradient norm ${h.gradNormTotal.toExponential(2)} (${layers})`,
    `      dead ReLUs: ${acts === '' ? 'n/a' : acts}`,
  ];
}

/** Predicted class over a text grid covering [-1.1, 1.1]^2 (rows top to bottom = y high to low). */
function regions(model: Model, cols: number, rows: number): string[] {
  const B = model.maxBatch;
  const x = new Float32Array(B * 2);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const yv = 1.1 - (2.2 * r) / (rows - 1);
    let s = '';
    for (let from = 0; from < cols; from += B) {
      const b = Math.min(B, cols - from);
      for (let c = 0; c < b; c++) {
        x[2 * c] = -1.1 + (2.2 * (from + c)) / (cols - 1);
        x[2 * c + 1] = yv;
      }
      const out = model.run(x.subarray(0, 2 * b), b);
      for (let c = 0; c < b; c++) {
        let arg = 0;
        for (let k = 1; k < CLASSES; k++) if (out[c * CLASSES + k]! > out[c * CLASSES + arg]!) arg = k;
        s += MARKS[arg];
      }
    }
    lines.push(`      ${s}`);
  }
  return lines;
}

function run(out: DemoOut): DemoPartResult {
  const data = makeSpiral(PER_CLASS, CLASSES, 1);
  const graph = sequential([2], [
    { type: 'dense', out: HIDDEN }, { type: 'relu' }, { type: 'dense', out: HIDDEN }, { type: 'relu' }, { type: 'dense', out: CLASSES },
  ], { seed: 0 });
  const model = compile(graph, { maxBatch: BATCH, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: LR }, probes: true });
  out.line(`   ${data.n} points, ${CLASSES} spiral arms; MLP 2-${HIDDEN}-${HIDDEN}-${CLASSES} (ReLU), cross-entropy, Adam lr ${LR}, batch ${BATCH}, 20% held out`);
  out.line(`   ${arenaLine(model.report)}`);
  let health: HealthRecord | null = null;
  let healthStep = 0;
  const healthEvery = 100;
  const result = fit(model, { x: data.x, sampleDims: [2], y: data.y, targetFloats: 1, n: data.n }, {
    epochs: EPOCHS, batchSize: BATCH, seed: 0, validationSplit: 0.2, healthEvery,
    onStep: (r) => {
      if (r.health !== null) { health = r.health; healthStep = r.step; }
      out.onStep?.('spiral', r);
    },
    onEpoch: (r) => {
      out.onEpoch?.('spiral', r);
      if (r.epoch === 0 || (r.epoch + 1) % 10 === 0) {
        out.line(`   epoch ${String(r.epoch + 1).padStart(3)}/${EPOCHS}  loss ${r.loss.toFixed(4)}  acc ${r.accuracy.toFixed(3)}` +
          `  val_loss ${r.valLoss!.toFixed(4)}  val_acc ${r.valAccuracy!.toFixed(3)}`);
      }
      if (r.epoch === 0 && health !== null) for (const l of healthLines(health, healthStep)) out.line(l);
    },
  });
  const finalHealth = health as HealthRecord | null;
  if (finalHealth !== null) for (const l of healthLines(finalHealth, healthStep)) out.line(l);
  const last = result.epochs[result.epochs.length - 1]!;
  out.line(`   decision regions (${MARKS.map((m, i) => `'${m}' = class ${i}`).join(', ')}):`);
  for (const l of regions(model, 60, 21)) out.line(l);
  const valAcc = last.valAccuracy ?? 0;
  const ok = valAcc >= 0.9;
  return { ok, summary: `spiral: validation accuracy ${(valAcc * 100).toFixed(1)}% after ${result.epochs.length} epochs (${result.steps} Adam steps)` };
}

export const spiralPart: DemoPart = { name: 'spiral', title: 'A 3-class spiral, trained with Adam from one arena', run };
