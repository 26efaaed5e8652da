// Example: post-training quantization loses accuracy, quantization-aware training recovers it.
// A seeded synthetic task (4 classes from 16 features, 3% of rows with a 20x outlier on a feature
// the class does not depend on, as real sensor data has) and an MLP 16 -> 64 -> 64 -> 4, quantized
// to 4-bit weights (per channel) and 6-bit activations (codes stored as int8 / uint8 bytes; the low
// bit widths make the drop visible on a toy task; the outliers stretch the input's min-max range):
//   float32  trained with Adam;
//   PTQ      the float weights, min-max observers calibrated on the training rows, converted;
//   QAT      the float weights fine-tuned with fake quantization (observers frozen after 150 steps),
//            converted the same way.
// Prints the test accuracy and the weight / arena bytes of each model.
// Run: npm run build && node build/examples/qat.js
import { pathToFileURL } from 'node:url';
import { sequential } from '../runtime/graph/sequential.js';
import { compile, type Model } from '../runtime/model.js';
import { fit } from '../runtime/train/trainer.js';
import { Rng } from '../runtime/random.js';
import { prepareQat, calibrate, trainedGraph, type QatConfig } from '../runtime/quant/qat.js';
import { convertToInt8, weightBytes } from '../runtime/quant/convert.js';

const F = 16, C = 4;

/** Class = which of 4 random directions a row points to most, through a tanh; 3% of rows carry
 *  an outlier (x20) on feature 0, which stretches min-max ranges. */
function task(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(1234);                               // the same directions for train and test
  const dirs = Float32Array.from({ length: C * F }, () => rng.uniform(-1, 1));
  const r = new Rng(seed);
  const x = new Float32Array(n * F), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) x[i * F + f] = r.uniform(-1, 1);
    if (r.uniform(0, 1) < 0.03) x[i * F] *= 20;
    let best = 0, bestV = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let f = 1; f < F; f++) s += dirs[c * F + f]! * Math.tanh(2 * x[i * F + f]!);
      if (s > bestV) { bestV = s; best = c; }
    }
    y[i] = best;
  }
  return { x, y };
}

function accuracy(m: Model, x: Float32Array, y: Int32Array): number {
  let hit = 0;
  for (let from = 0; from < y.length; from += m.maxBatch) {
    const b = Math.min(m.maxBatch, y.length - from);
    const out = m.run(x.subarray(from * F, (from + b) * F), b);
    for (let r = 0; r < b; r++) {
      let arg = 0;
      for (let c = 1; c < C; c++) if (out[r * C + c]! > out[r * C + arg]!) arg = c;
      if (arg === y[from + r]) hit++;
    }
  }
  return hit / y.length;
}

export interface QatExampleResult {
  readonly float32: number;
  readonly ptq: number;
  readonly qat: number;
  readonly bytes: { readonly float32: number; readonly int8: number; readonly arenaFloat32: number; readonly arenaInt8: number };
}

export function main(log: (s: string) => void = console.log): QatExampleResult {
  const train = task(2000, 1), test = task(1000, 2);
  const data = { x: train.x, sampleDims: [F], y: train.y, targetFloats: 1, n: 2000 };
  const layers = [{ type: 'dense', out: 64 }, { type: 'relu' }, { type: 'dense', out: 64 }, { type: 'relu' }, { type: 'dense', out: C }] as const;
  const float = compile(sequential([F], layers, { seed: 7 }), { maxBatch: 50, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 3e-3 } });
  fit(float, data, { epochs: 25, batchSize: 50, seed: 3 });
  const floatAcc = accuracy(float, test.x, test.y);

  const bits: QatConfig = { weights: { bits: 4, perChannel: true }, activations: { bits: 6 } };
  // PTQ: calibrate min-max observers on the training rows, convert
  const ptqModel = compile(prepareQat(trainedGraph(float), { ...bits, observer: 'minmax', rule: 'observer' }), { maxBatch: 50 });
  calibrate(ptqModel, train.x);
  const ptq = compile(convertToInt8(ptqModel), { maxBatch: 50 });
  const ptqAcc = accuracy(ptq, test.x, test.y);

  // QAT: fine-tune the float weights through fake quantization, then convert the same way
  const qatModel = compile(prepareQat(trainedGraph(float), { ...bits, freezeObserverAt: 150 }),
    { maxBatch: 50, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 1e-3 } });
  fit(qatModel, data, { epochs: 10, batchSize: 50, seed: 4 });
  const qat = compile(convertToInt8(qatModel), { maxBatch: 50 });
  const qatAcc = accuracy(qat, test.x, test.y);

  const fw = weightBytes(float.graph), qw = weightBytes(qat.graph);
  const bytes = { float32: fw.weights + fw.biases, int8: qw.weights + qw.biases, arenaFloat32: compile(float.graph, { maxBatch: 50 }).report.totalBytes, arenaInt8: qat.report.totalBytes };
  log(`test accuracy (1000 rows): float32 ${floatAcc.toFixed(3)} | PTQ w4/a6 ${ptqAcc.toFixed(3)} | QAT w4/a6 ${qatAcc.toFixed(3)}`);
  log(`weights + biases: float32 ${bytes.float32} bytes | int8 codes ${bytes.int8} bytes (PTQ and QAT alike)`);
  log(`inference arena (batch 50): float32 ${bytes.arenaFloat32} bytes | int8 ${bytes.arenaInt8} bytes`);
  return { float32: floatAcc, ptq: ptqAcc, qat: qatAcc, bytes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
