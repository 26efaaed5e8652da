// Example: build a graph op by op with GraphBuilder (shapes are checked here, once), compile it
// for inference with a maximum batch, run smaller batches from the same arena, and read the
// arena report. A 1-D convolution over 2-channel signals of length 16, then a linear read-out.
// Run: npm run build && node build/examples/graph-builder.js
import { pathToFileURL } from 'node:url';
import { GraphBuilder } from '../runtime/graph/builder.js';
import { compile } from '../runtime/model.js';

export function main(log: (s: string) => void = console.log): { outputs: number[]; arenaBytes: number } {
  const g = new GraphBuilder(42);                            // seed of the parameter init
  const x = g.input('signal', [2, 16]);                      // per sample [C=2, L=16]
  let h = g.conv1d(x, 4, 3, { name: 'conv', padding: 1 });   // [4, 16]; weight [4, 2, 3]
  h = g.relu(h);
  h = g.flatten(h);                                          // [64]
  const y = g.dense(h, 3, { name: 'head' });                 // [3]; weight [3, 64]
  g.output(g.softmax(y));
  const model = compile(g.build(), { maxBatch: 8 });

  const batch = new Float32Array(2 * 2 * 16);                // 2 samples
  for (let i = 0; i < batch.length; i++) batch[i] = Math.sin(i / 3);
  const probs = model.run(batch, 2);                         // first 2 rows are valid
  const r = model.report;
  log(`probabilities: ${Array.from(probs.subarray(0, 6), (v) => v.toFixed(3)).join(' ')}`);
  log(`arena: ${r.totalBytes} bytes (params ${r.paramsBytes}, activations ${r.activationsBytes}, lower bound ${r.lowerBoundBytes})`);
  return { outputs: Array.from(probs.subarray(0, 6)), arenaBytes: r.totalBytes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
