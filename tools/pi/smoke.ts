// The device-library leg of the emulated-Pi test, as a bundle entry (dist/pi-smoke.cjs, built by
// `node build/tools/bundle.js --smoke`):
//   1. with --onnx FILE: decodes an ONNX model through importers/onnx (protobufjs static code,
//      int64 attributes through long.js): proves protobuf decoding runs in the bundle, on Node 18,
//      under --disallow-code-generation-from-strings;
//   2. runs a JSON model on a few rows, records each inference's latency in the metric ring, closes
//      one report interval and publishes that metrics record through devices/telemetry (durable
//      outbox, mqtt.js, QoS 1) to the broker at --url, waits for its PUBACK and stops cleanly.
// It prints one JSON line on stdout: {"metrics": <the record>, "onnx": <summary> | null}.
//
//   node pi-smoke.cjs --url mqtt://127.0.0.1:PORT --state DIR --fleet F --device D --model M.json
//                     [--rows N] [--onnx FILE]
//
// Exit codes: 0 published and acknowledged; 1 anything else (message on stderr). It is not the
// agent (no sources, no fine-tuning, no updates) and not part of the device package: it exists so
// that the bundled protobuf decoder, mqtt client, outbox and ring are proved on Node 18 for arm64
// and armhf.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { compile } from '../../runtime/model.js';
import { jsonModelGraph, parseJsonModel } from '../../importers/json-model.js';
import { startTelemetry } from '../../devices/telemetry/start-telemetry.js';
import { decodeModel } from '../../importers/onnx/decode.js';
import type { OnnxModel } from '../../importers/onnx/model.js';

function flags(argv: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < argv.length; i += 2) {
    const k = argv[i]!;
    if (!k.startsWith('--')) throw new Error(`unexpected argument ${k}`);
    m.set(k.slice(2), argv[i + 1]!);
  }
  return m;
}

function need(m: Map<string, string>, k: string): string {
  const v = m.get(k);
  if (v === undefined) throw new Error(`missing --${k}`);
  return v;
}

type Scalar = number | string | readonly number[] | readonly string[];

/** What the test compares across architectures: structure, int64 attributes, float attributes. */
function onnxSummary(m: OnnxModel): Record<string, unknown> {
  return {
    irVersion: m.irVersion,
    opsets: [...m.opsetImports].sort(),
    nodes: m.graph.nodes.map((n) => {
      const attrs: Record<string, Scalar> = {};
      for (const [k, a] of n.attributes) {
        if (a.type === 'int' || a.type === 'float' || a.type === 'string' || a.type === 'ints' || a.type === 'floats' || a.type === 'strings') attrs[k] = a.value;
      }
      return { op: n.opType, inputs: n.inputs, outputs: n.outputs, attrs };
    }),
    inputs: m.graph.inputs.map((v) => ({ name: v.name, elemType: v.elemType, shape: v.shape })),
    outputs: m.graph.outputs.map((v) => ({ name: v.name, elemType: v.elemType, shape: v.shape })),
  };
}

async function main(): Promise<void> {
  const f = flags(process.argv.slice(2));
  const onnxFile = f.get('onnx');
  const onnx = onnxFile !== undefined ? onnxSummary(decodeModel(readFileSync(onnxFile))) : null;
  const modelFile = need(f, 'model');
  const rows = Number(f.get('rows') ?? '8');
  const spec = parseJsonModel(readFileSync(modelFile, 'utf8'), modelFile);
  const graph = jsonModelGraph(spec, modelFile);
  const model = compile(graph, { maxBatch: 1 });
  const x = model.inputView(0);

  const tel = startTelemetry({
    fleet: need(f, 'fleet'),
    device: need(f, 'device'),
    stateDir: need(f, 'state'),
    mqtt: { url: need(f, 'url') },
    model: () => ({ id: 'smoke', version: '1', hash: 'none' }),
    agentVersion: 'pi-smoke',
    arenaBytes: () => model.report.totalBytes,
    // the timer never fires during the smoke run: the one record is made by flush() below
    reportIntervalMs: 3_600_000,
    log: (l) => { process.stderr.write(`pi-smoke: ${l}\n`); },
  });

  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < x.length; i++) x[i] = (r + 1) * 0.25 - i * 0.125;
    const t0 = performance.now();
    model.forward(1);
    tel.ring.recordInference((performance.now() - t0) * 1000);
  }
  const rec = tel.publisher.flush();
  const acked = await tel.publisher.waitDrained(30_000);
  await tel.stop(5_000);
  if (!acked) throw new Error(`metrics record seq ${rec.seq} was not acknowledged by the broker within 30 s`);
  process.stdout.write(`${JSON.stringify({ metrics: rec, onnx })}\n`);
}

main().then(
  () => { process.exitCode = 0; },
  (e: unknown) => {
    process.stderr.write(`pi-smoke: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
