// Example: the JSON model format (docs/model-format.md) from code — parse a model description,
// compile and train it, then write the trained weights back as JSON (what `edgenn train --out`
// does) and check the round trip is exact.
// Run: npm run build && node build/examples/json-model.js
import { pathToFileURL } from 'node:url';
import { jsonModelGraph, modelToJson, parseJsonModel, stringifyJsonModel } from '../importers/json-model.js';
import { compile } from '../runtime/model.js';

const MODEL = `{
  "format": "edgenn-model", "version": 1,
  "input": {"name": "input", "dims": [1]},
  "layers": [{"type": "dense", "out": 1, "weight": [0], "biasData": [0]}],
  "seed": 0
}`;

export function main(log: (s: string) => void = console.log): { weight: number; bias: number; roundTrip: boolean } {
  const spec = parseJsonModel(MODEL, 'inline.json');          // validated: names layer and key on errors
  const model = compile(jsonModelGraph(spec), { maxBatch: 4, loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } });
  const x = Float32Array.from([0, 1, 2, 3]);                 // learn y = 2x + 1
  const y = Float32Array.from([1, 3, 5, 7]);
  for (let i = 0; i < 500; i++) model.trainStep(x, y);
  const [w, b] = [model.param('0.weight')[0]!, model.param('0.bias')[0]!];
  log(`learned y = ${w.toFixed(3)} x + ${b.toFixed(3)}`);

  const text = stringifyJsonModel(modelToJson(model, spec));  // trained weights, float32-exact
  log(text);
  const back = compile(jsonModelGraph(parseJsonModel(text)), { maxBatch: 1 });
  const roundTrip = back.param('0.weight')[0] === w && back.param('0.bias')[0] === b;
  return { weight: w, bias: b, roundTrip };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
