// Example: train a classifier with the trainer (`fit`: mini-batches, seeded shuffle, validation
// split, training-health signals), save a checkpoint atomically, load it into a freshly compiled
// model and check that both give bit-identical outputs.
// Run: npm run build && node build/examples/fit-and-checkpoint.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sequential } from '../runtime/graph/sequential.js';
import { compile } from '../runtime/model.js';
import { fit } from '../runtime/train/trainer.js';
import { loadCheckpoint, saveCheckpoint } from '../runtime/train/checkpoint.js';

/** Two noisy concentric rings: class 0 inside (r ~ 0.5), class 1 outside (r ~ 1). */
function rings(n: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 2), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2, a = i * 2.399963;                       // golden-angle spread, no RNG needed
    const r = (c === 0 ? 0.5 : 1) + 0.08 * Math.sin(i * 12.9898);
    x[2 * i] = r * Math.cos(a);
    x[2 * i + 1] = r * Math.sin(a);
    y[i] = c;
  }
  return { x, y };
}

export function main(log: (s: string) => void = console.log): { valAccuracy: number; identical: boolean } {
  const data = rings(200);
  const layers = [{ type: 'dense', out: 16 }, { type: 'tanh' }, { type: 'dense', out: 2 }] as const;
  const compileOpts = { maxBatch: 20, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 0.02 }, probes: true } as const;
  const model = compile(sequential([2], layers, { seed: 1 }), compileOpts);

  const result = fit(model, { x: data.x, sampleDims: [2], y: data.y, targetFloats: 1, n: 200 }, {
    epochs: 30, batchSize: 20, seed: 0, validationSplit: 0.25, healthEvery: 50,
    onEpoch: (e) => { if ((e.epoch + 1) % 10 === 0) log(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, val acc ${e.valAccuracy?.toFixed(3)}`); },
    onStep: (s) => { if (s.health !== null) log(`  step ${s.step}: gradient norm ${s.health.gradNormTotal.toFixed(4)}`); },
  });

  const dir = mkdtempSync(join(tmpdir(), 'edgenn-example-'));
  try {
    const path = join(dir, 'rings.ckpt');
    saveCheckpoint(path, model, { note: 'rings example' });  // temp file + fsync + rename
    const again = compile(sequential([2], layers, { seed: 99 }), compileOpts); // other init on purpose
    loadCheckpoint(path, again);                               // checksum-verified, bit-exact
    const a = Array.from(model.run(data.x.subarray(0, 40), 20));
    const b = Array.from(again.run(data.x.subarray(0, 40), 20));
    const identical = a.every((v, i) => Object.is(v, b[i]));
    log(`checkpoint reloaded: outputs ${identical ? 'bit-identical' : 'DIFFER'}`);
    return { valAccuracy: result.epochs[result.epochs.length - 1]!.valAccuracy ?? 0, identical };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
