#!/usr/bin/env node
// `node build/tools/bench/int8.js [--quick]`: int8 vs float32 on the benchmark MLPs (models.ts: T, S,
// M with the same seeded weights). Per model: edgenn float32, edgenn int8 (post-training
// quantization: min-max calibration on 256 seeded rows, per-channel int8 weights, uint8
// activations, runtime/quant), onnxruntime-node on the float ONNX export and on the QDQ export of
// the very same int8 model. Rows: batch-1 and batch-64 latency (median of timed samples, µs per
// call), weight bytes (edgenn: arena bytes of weights + biases; ort: the .onnx file size), arena
// bytes (edgenn), and how far the QDQ outputs of onnxruntime are from edgenn's int8 outputs (in
// output quantization steps). Timing: warm-up, then samples of k back-to-back calls (k chosen so a
// sample lasts >= 2 ms), the median per-call time. One process, single run: a quick figure, not the
// interleaved harness of run.ts.
import { pathToFileURL } from 'node:url';
import { GraphBuilder } from '../../runtime/graph/builder.js';
import { compile, type Model } from '../../runtime/model.js';
import { Rng } from '../../runtime/random.js';
import { prepareQat, calibrate, qatSites } from '../../runtime/quant/qat.js';
import { convertToInt8, weightBytes } from '../../runtime/quant/convert.js';
import { exportOnnxBytes } from '../../importers/onnx/export.js';
import { MODELS, makeMlp, type MlpDef } from './models.js';
import { median } from './stats.js';
import { ortNodeRunner } from './peers/ort-node.js';

function graphOf(def: MlpDef): ReturnType<GraphBuilder['build']> {
  const b = new GraphBuilder();
  let h = b.input('x', [def.spec.sizes[0]!]);
  for (let l = 0; l < def.weights.length; l++) {
    h = b.dense(h, def.spec.sizes[l + 1]!, { name: `fc${l + 1}`, weight: def.weights[l], biasData: def.biases[l] });
    if (l + 1 < def.weights.length) h = def.spec.activation === 'relu' ? b.relu(h) : b.tanh(h);
  }
  b.output(h, 'y');
  return b.build();
}

async function timeIt(call: () => unknown | Promise<unknown>, samples: number): Promise<number> {
  const t0 = performance.now();
  let warm = 0;
  while (performance.now() - t0 < 150 || warm < 50) { await call(); warm++; }
  let k = 1;
  for (;;) {
    const s = performance.now();
    for (let i = 0; i < k; i++) await call();
    if (performance.now() - s >= 2 || k >= 1 << 16) break;
    k *= 2;
  }
  const per: number[] = [];
  for (let j = 0; j < samples; j++) {
    const s = performance.now();
    for (let i = 0; i < k; i++) await call();
    per.push(((performance.now() - s) * 1000) / k);
  }
  return median(per);
}

export interface Int8Row {
  readonly model: string; readonly impl: string;
  readonly b1Us: number; readonly b64Us: number; readonly weightBytes: number; readonly arenaBytes: number | null;
}

export async function benchInt8(quick = false, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<Int8Row[]> {
  const rows: Int8Row[] = [];
  const samples = quick ? 7 : 25;
  for (const spec of MODELS) {
    const def = makeMlp(spec, 1);
    const I = spec.sizes[0]!, rng = new Rng(2);
    const x = Float32Array.from({ length: 256 * I }, () => rng.uniform(-1, 1));
    const g = graphOf(def);
    const fm = compile(g, { maxBatch: 64 });
    const qm = compile(prepareQat(g, { observer: 'minmax', rule: 'observer' }), { maxBatch: 64 });
    calibrate(qm, x);
    const m8 = compile(convertToInt8(qm), { maxBatch: 64 });
    const x1 = x.subarray(0, I), x64 = x.subarray(0, 64 * I);
    const fBytes = exportOnnxBytes(fm, { opset: 13 }), qBytes = exportOnnxBytes(m8, { opset: 13 });
    const ortF = await ortNodeRunner(fBytes), ortQ = await ortNodeRunner(qBytes);
    // agreement of onnxruntime's QDQ run with edgenn's int8 kernels
    const y8 = m8.run(x64, 64).slice(), yq = await ortQ(x64, [64, I]);
    const sites = qatSites(qm), step = sites[sites.length - 1]!.scale[0]!;
    let worst = 0;
    for (let i = 0; i < y8.length; i++) worst = Math.max(worst, Math.abs(y8[i]! - yq[i]!) / step);
    log(`int8 ${spec.name}: onnxruntime QDQ vs edgenn int8: max ${worst.toFixed(2)} output steps`);
    const ew = (m: Model): number => { const w = weightBytes(m.graph); return w.weights + w.biases; };
    const time = async (f: (b: number) => unknown): Promise<[number, number]> => [await timeIt(() => f(1), samples), await timeIt(() => f(64), samples)];
    const [fe1, fe64] = await time((b) => fm.run(b === 1 ? x1 : x64, b));
    const [qe1, qe64] = await time((b) => m8.run(b === 1 ? x1 : x64, b));
    const [fo1, fo64] = await time((b) => ortF(b === 1 ? x1 : x64, [b, I]));
    const [qo1, qo64] = await time((b) => ortQ(b === 1 ? x1 : x64, [b, I]));
    rows.push({ model: spec.name, impl: 'edgenn float32', b1Us: fe1, b64Us: fe64, weightBytes: ew(fm), arenaBytes: fm.report.totalBytes });
    rows.push({ model: spec.name, impl: 'edgenn int8', b1Us: qe1, b64Us: qe64, weightBytes: ew(m8), arenaBytes: m8.report.totalBytes });
    rows.push({ model: spec.name, impl: 'ort-node float32', b1Us: fo1, b64Us: fo64, weightBytes: fBytes.length, arenaBytes: null });
    rows.push({ model: spec.name, impl: 'ort-node QDQ int8', b1Us: qo1, b64Us: qo64, weightBytes: qBytes.length, arenaBytes: null });
    log(`int8 ${spec.name}: done`);
  }
  return rows;
}

export function formatInt8(rows: readonly Int8Row[]): string {
  const head = 'model  impl                 batch-1 µs  batch-64 µs  weight bytes  arena bytes';
  const lines = rows.map((r) => `${r.model.padEnd(6)} ${r.impl.padEnd(20)} ${r.b1Us.toFixed(1).padStart(10)}  ${r.b64Us.toFixed(1).padStart(11)}  ` +
    `${String(r.weightBytes).padStart(12)}  ${r.arenaBytes === null ? '(onnx file)'.padStart(11) : String(r.arenaBytes).padStart(11)}`);
  return [head, ...lines, '', 'weight bytes: edgenn = weights + biases in the arena; ort = size of the .onnx file it loads'].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchInt8(process.argv.includes('--quick')).then((rows) => { process.stdout.write(formatInt8(rows) + '\n'); },
    (e: unknown) => { process.stderr.write(`bench int8: ${String(e)}\n`); process.exitCode = 1; });
}
