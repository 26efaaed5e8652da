// The device agent: what `edgenn agent --config device.json` runs on each board. It wires a
// validated config (config.ts) to
//   the model store (devices/updates/store.ts): the served model, crash-safe swaps, the previous
//     model to fall back to; on first boot the configured model file is installed into it;
//   inference (inference.ts): the model compiled once for maxBatch, fed by the sources (stdin
//     JSON lines, a tailed file, a CSV batch, a loopback HTTP endpoint or Unix socket);
//   fine-tuning (fine-tuner.ts): labelled samples into a bounded buffer, runs by count, schedule
//     or command on a second compile, automatic rollback to the last good checkpoint;
//   signed updates (devices/updates): installUpdate's verify → stage → validate (decode, signature
//     of the config, smoke inference with finite outputs) → commit, then probation → keep or roll
//     back;
//   telemetry (agent-telemetry.ts): latency and training signals into the ring, a metrics record
//     per report interval, events for everything that changes the model, commands and replies
//     (commands.ts).
// Everything on the inference path is synchronous and local: telemetry is a ring write.
//
// Memory (the budget: under 64 MB RSS with a 784-256-128-10 model on Node 18, a Pi Zero 2 W has
// 512 MB; docs/raspberry-pi.md "Memory"): what only some agents use is imported on first use, so
// it is never evaluated by the others: the ONNX importer (model-loader.ts), the model-signature
// decoder (first install of an ONNX model), the update fetcher (an update command), and each
// source kind's module (sources/*). A model's bytes are decoded once per install: the smoke
// check's decode is handed on to serving (`decoded`), and nothing keeps the text or the parsed
// JSON of a model alive; once a model is serving, the garbage of loading it (the JSON text, its
// parsed numbers, the smoke check's compile: several MB) is collected after each stage of loading
// when node runs with --expose-gc, as the systemd unit does (`collectLoadGarbage`). Nothing keeps
// a model's bytes (the store reads them back when needed) nor, once the inference engine has
// compiled it, its graph's weights (`withoutWeights`); without a broker, mqtt.js is never
// evaluated (agent-telemetry.ts).
//
// It is not a process manager: the CLI command (tools/cli/commands/agent.ts) owns signals and
// exit codes; tests call startAgent directly.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { EdgennError } from '../../runtime/errors.js';
import { withoutParamData } from '../../runtime/graph/graph.js';
import { compile } from '../../runtime/model.js';
import { Rng } from '../../runtime/random.js';
import { redactUrl } from '../telemetry/redact.js';
import type { Telemetry } from '../telemetry/publisher.js';
import type { JsonValue, ModelInfo } from '../telemetry/schema.js';
import type { TensorSignature } from '../updates/artifact.js';
import { Probation } from '../updates/probation.js';
import { loadPublicKey, type PublicKey } from '../updates/signing.js';
import { ModelStore, type StoredModel } from '../updates/store.js';
import { startAgentTelemetry } from './agent-telemetry.js';
import { attachCommands, type CommandStats, type CommandTarget } from './commands.js';
import type { AgentConfig } from './config.js';
import { FineTuner, sampleBufferFor, type FineTuneOutcome, type FineTuneTrigger } from './fine-tuner.js';
import { InferenceEngine } from './inference.js';
import {
  AGENT_MODEL_FORMATS, checkSignature, formatOfName, modelFromBytes, sha256Hex, type AgentModel, type AgentModelFormat,
} from './model-loader.js';
import type { SampleBuffer } from './sample-buffer.js';
import type { HttpPort } from './sources/http.js';
import type { LineSource } from './sources/lines.js';
import { AGENT_VERSION } from './version.js';

export interface AgentOptions {
  /** Log lines (no secrets are ever passed here). Default: none. */
  readonly log?: (line: string) => void;
  /** The streams of a `stdin` source; default process.stdin / process.stdout. */
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  /** Called when the stdin source ends (the CLI stops the agent then). */
  readonly onStdinEnd?: () => void;
  /** Outbox bound in bytes (tests). */
  readonly outboxMaxBytes?: number;
}

export interface Agent {
  readonly config: AgentConfig;
  readonly telemetry: Telemetry;
  /** Addresses of the HTTP sources ("http://127.0.0.1:PORT" or "unix:PATH"). */
  readonly httpAddresses: readonly string[];
  readonly port: HttpPort;
  readonly commands: CommandTarget;
  readonly commandStats: CommandStats;
  readonly model: ModelInfo;
  readonly buffer: SampleBuffer | null;
  /** Runs a fine-tune now (the same as the fine-tune-now command). */
  fineTune(trigger?: FineTuneTrigger): Promise<FineTuneOutcome>;
  /** Resolves when the CSV batch sources finished. */
  readonly csvDone: Promise<void>;
  status(): Record<string, JsonValue>;
  stop(): Promise<void>;
}

/** Latency window for the probation baseline (the previous model's recent p95). */
const RECENT = 512;

function toJson(v: unknown): JsonValue {
  return JSON.parse(JSON.stringify(v)) as JsonValue;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One full GC when node exposes it (--expose-gc), right after a model was loaded (and after a
 * fine-tune run). Without it, V8
 * collects the loading garbage only when allocation makes it, and shrinks the heap only if its
 * memory reducer was armed by a full GC during start-up: measured with a 3.1 MB JSON model, one
 * start in a few then idled 3 to 7 MB higher than the others (docs/raspberry-pi.md "Memory"). */
function collectLoadGarbage(): void {
  const gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc === 'function') (gc as () => void)();
}

/** The served model's graph without its weights: once the inference engine has compiled them
 * into its arena, the graph's own copy (4 bytes a weight, ~0.9 MB for 784-256-128-10) would only
 * sit in memory; the fine-tuner compiles the weightless graph and copies the weights from the
 * engine by name (fine-tuner.ts). */
function withoutWeights(m: AgentModel): AgentModel {
  return { ...m, graph: withoutParamData(m.graph) };
}

export async function startAgent(cfg: AgentConfig, opts: AgentOptions = {}): Promise<Agent> {
  const log = opts.log ?? ((): void => undefined);
  const t0 = performance.now();
  try {
    fs.mkdirSync(cfg.stateDir, { recursive: true });
  } catch (e) {
    throw new EdgennError('IO', `cannot create stateDir: ${errText(e)}`, { file: cfg.stateDir });
  }
  const publicKeys: PublicKey[] = cfg.updates.publicKeys.map((f) => loadPublicKey(f));

  // ---- the model store: what to serve ----
  const { store, report } = ModelStore.open(cfg.model.store, { maxArtifactBytes: cfg.updates.maxArtifactBytes });
  const pendingEvents: Array<{ type: string; data: JsonValue }> = [];
  for (const a of report.actions) pendingEvents.push({ type: 'store-recovered', data: { action: a } });
  if (report.rolledBack) pendingEvents.push({ type: 'model-rolled-back', data: { reason: 'recovery', actions: [...report.actions] } });

  /** The graph of the bytes the smoke check decoded last, until the next decode takes it: a model
   * that passed its check is served from that decode (the same bytes, by SHA-256) instead of
   * being parsed again. Cleared when an update fails after its check. */
  let decoded: { readonly hash: string; readonly format: AgentModelFormat; readonly graph: AgentModel['graph'] } | null = null;
  const decode = async (bytes: Uint8Array, format: AgentModelFormat, source: string, ident: { id: string; version: string }): Promise<AgentModel> => {
    const d = decoded;
    decoded = null;
    if (d !== null && d.format === format) {
      const hash = sha256Hex(bytes);
      if (hash === d.hash) return { graph: d.graph, format, source, info: { id: ident.id, version: ident.version, hash } };
    }
    return modelFromBytes(bytes, format, source, ident);
  };

  /** Decode + configured signature; the store's manifest names the model. */
  const decodeStored = async (m: StoredModel): Promise<AgentModel> => {
    const am = await decode(store.readModel(m), m.manifest.format, `${cfg.model.store}/versions/${m.file}`,
      { id: m.manifest.modelId, version: m.manifest.version });
    checkSignature(am, cfg.signature);
    return am;
  };

  let sampleBuffer: SampleBuffer | null = null;

  /** The update check: decodes, matches the configured signature, smoke-runs on stored samples. */
  const smokeCheck = async (bytes: Uint8Array, manifest: StoredModel['manifest']): Promise<void> => {
    const am = await decode(bytes, manifest.format, `staged ${manifest.modelId}@${manifest.version}`, { id: manifest.modelId, version: manifest.version });
    checkSignature(am, cfg.signature);
    const m = compile(am.graph, { maxBatch: 1 });
    const I = m.plan.inputs[0]!.floats;
    const O = m.plan.outputs[0]!.floats;
    const rows: Float32Array[] = [];
    if (sampleBuffer !== null && sampleBuffer.count > 0) {
      const d = sampleBuffer.snapshot();
      for (let r = 0; r < Math.min(d.n, 8); r++) rows.push(d.x.slice(r * I, (r + 1) * I));
    }
    const rng = new Rng(1);
    rows.push(new Float32Array(I));
    while (rows.length < 8) rows.push(Float32Array.from({ length: I }, () => rng.uniform(-1, 1)));
    for (const [r, x] of rows.entries()) {
      const y = m.run(x, 1);
      for (let k = 0; k < O; k++) {
        if (!Number.isFinite(y[k]!)) {
          throw new EdgennError('DATA', `smoke inference gave a non-finite output on sample ${r}`, { tensor: 'output', actual: String(y[k]) });
        }
      }
    }
    decoded = { hash: am.info.hash, format: am.format, graph: am.graph };
  };

  let stored = report.current;
  if (stored === null) {
    if (cfg.model.path === undefined) {
      throw new EdgennError('STATE', 'the model store holds no model and the config names no model.path to install', { file: cfg.model.store });
    }
    const file = cfg.model.path;
    const format = formatOfName(file);
    const modelId = cfg.model.id ?? path.basename(file, path.extname(file)).replace(/[^A-Za-z0-9._-]/g, '_');
    const version = cfg.model.version ?? '0';
    const bytes = fs.readFileSync(file);
    let sig: { inputs: readonly TensorSignature[]; outputs: readonly TensorSignature[] };
    if (format === 'edgenn-json') {
      // The manifest's signature of a JSON model is its graph's inputs and outputs, as
      // devices/updates/model-signature.ts computes it; this decode is the one served (`decoded`).
      const am = await modelFromBytes(bytes, format, file, { id: modelId, version });
      const tsig = (id: number): TensorSignature => ({ name: am.graph.values[id]!.name, dims: [...am.graph.values[id]!.dims] });
      sig = { inputs: am.graph.inputs.map(tsig), outputs: am.graph.outputs.map(tsig) };
      decoded = { hash: am.info.hash, format, graph: am.graph };
      collectLoadGarbage(); // the JSON text and its parsed numbers
    } else {
      const { modelSignature } = await import('../updates/model-signature.js');
      sig = modelSignature(bytes, format, file);
    }
    const staged = store.stageLocal(bytes, { modelId, version, format, inputs: sig.inputs, outputs: sig.outputs });
    await store.validate(staged, smokeCheck);
    stored = store.commit(staged);
    store.markStable(); // the first model has nothing to fall back to: no probation
    collectLoadGarbage(); // the staged container's bytes, the smoke check's compile
    pendingEvents.push({ type: 'model-installed', data: { file: cfg.model.path, version: stored.manifest.version, hash: stored.manifest.sha256 } });
  }
  let current = await decodeStored(stored);
  collectLoadGarbage(); // the bytes read back from the store (and, on a restart, their decode)

  // ---- telemetry ----
  let engine: InferenceEngine | null = null;
  let tuner: FineTuner | null = null;
  const telemetry = await startAgentTelemetry(cfg, {
    model: () => current.info, agentVersion: AGENT_VERSION,
    arenaBytes: () => (engine?.arenaBytes ?? 0) + (tuner?.arenaBytes ?? 0),
    layerNames: FineTuner.layerNames(current.graph), log,
    ...(opts.outboxMaxBytes !== undefined ? { outboxMaxBytes: opts.outboxMaxBytes } : {}),
  });
  const { publisher } = telemetry;
  // The ring follows the served model (install() renews it): its gradient norms carry that
  // model's layer names.
  let ring = telemetry.ring;
  const event = (type: string, data: JsonValue): void => {
    try { publisher.event(type, data); } catch (e) { log(`event ${type} not recorded: ${errText(e)}`); }
  };

  // ---- serving and fine-tuning ----
  const ft = cfg.fineTune;
  engine = new InferenceEngine(current.graph, cfg.maxBatch, ring);
  current = withoutWeights(current);
  if (ft !== null) {
    const sigIn = cfg.signature.input, sigOut = cfg.signature.output;
    sampleBuffer = sampleBufferFor(ft, sigIn, sigOut);
  }
  const makeTuner = (): FineTuner | null => ft === null || sampleBuffer === null ? null : new FineTuner({
    graph: current.graph, config: ft, checkpointRoot: path.join(cfg.stateDir, 'checkpoints'), modelHash: current.info.hash,
    ring, inference: engine!, buffer: sampleBuffer, log,
  });
  tuner = makeTuner();
  let fineTuneEnabled = ft?.enabled ?? false;
  let ftRun: Promise<FineTuneOutcome> | null = null;

  const recent = new Float64Array(RECENT);
  let recentN = 0;
  const recentP95 = (): number | null => {
    const n = Math.min(recentN, RECENT);
    if (n < 20) return null;
    const s = recent.slice(0, n).sort();
    return s[Math.min(n - 1, Math.floor(0.95 * (n - 1)))]!;
  };

  let probation: Probation | null = null;
  const startProbation = (baselineP95: number | null): void => {
    probation = new Probation({
      maxInferences: cfg.probation.inferences, maxDurationMs: cfg.probation.durationSec * 1000,
      maxLatencyFactor: cfg.probation.latencyFactor, baselineP95, now: () => performance.now(),
    });
  };
  if (store.state() === 'probation') startProbation(null); // restarted during probation

  /** Swaps serving to `m` (already committed in the store): new compiles, checkpoints by hash. */
  const install = async (m: StoredModel): Promise<void> => {
    const next = await decodeStored(m);
    await stopFineTune();
    // Closes the old model's interval (a metrics record under its model info and layer names) and
    // records the new model into a ring named after its layers.
    ring = publisher.renewRing(FineTuner.layerNames(next.graph));
    engine = new InferenceEngine(next.graph, cfg.maxBatch, ring);
    current = withoutWeights(next);
    tuner = makeTuner();
    recentN = 0;
    collectLoadGarbage();
  };

  const stopFineTune = async (): Promise<void> => {
    if (ftRun === null) return;
    tuner?.requestStop();
    try { await ftRun; } catch { /* reported by its caller */ }
  };

  let swapping: Promise<unknown> | null = null;
  const judge = (verdict: 'pending' | 'keep' | 'rollback'): void => {
    const p = probation;
    if (p === null || verdict === 'pending' || swapping !== null) return;
    probation = null;
    const from = current.info;
    if (verdict === 'keep') {
      try { store.markStable(); } catch (e) { log(`markStable failed: ${errText(e)}`); }
      event('probation-passed', { model: toJson(from), reason: p.reason });
      return;
    }
    swapping = (async () => {
      try {
        const prev = store.rollback();
        await install(prev);
        event('model-rolled-back', { reason: 'probation', detail: p.reason, from: toJson(from), to: toJson(current.info) });
        log(`probation failed (${p.reason}); rolled back to ${current.info.version}`);
      } catch (e) {
        event('rollback-failed', { reason: 'probation', detail: p.reason, error: errText(e) });
      } finally {
        swapping = null;
      }
    })();
  };

  const port: HttpPort = {
    get outputFloats() { return engine!.outputFloats; },
    get lastLatencyUs() { return engine!.lastUs; },
    infer(x: ArrayLike<number>): Float32Array {
      const e = engine!;
      // A throw here is bad input (the caller's fault, not the model's): probation does not see it.
      const y = e.infer(x);
      recent[recentN++ % RECENT] = e.lastUs;
      if (probation !== null) judge(probation.recordInference(e.lastUs, y, 0, e.outputFloats));
      return y;
    },
    addSample(x: ArrayLike<number>, label: number | readonly number[]): { buffered: number; dropped: number } {
      if (sampleBuffer === null) throw new EdgennError('STATE', 'fine-tuning is not configured (no fineTune section): labelled samples are not accepted');
      sampleBuffer.push(x, label as number | ArrayLike<number>);
      maybeAutoFineTune();
      return { buffered: sampleBuffer.count, dropped: sampleBuffer.dropped };
    },
    health: () => ({ ok: true, device: cfg.device, model: toJson(current.info), uptimeS: Math.round(process.uptime()), online: telemetry.transport.connected }),
    metrics: () => status(),
    fineTune: async () => toJson(await runFineTune('local')),
  };

  const runFineTune = async (trigger: FineTuneTrigger): Promise<FineTuneOutcome> => {
    const t = tuner;
    if (t === null) throw new EdgennError('STATE', 'fine-tuning is not configured (no fineTune section)');
    if (ftRun !== null) return ftRun;
    const p = t.run(trigger);
    ftRun = p;
    try {
      const out = await p;
      if (out.status === 'rolled-back') event('fine-tune-rolled-back', toJson(out));
      else if (out.status === 'improved') event('fine-tuned', toJson(out));
      return out;
    } catch (e) {
      event('fine-tune-failed', { trigger, error: errText(e) });
      throw e;
    } finally {
      ftRun = null;
      // the run's garbage (its data split, the checkpoint it encoded: MBs of ArrayBuffers that V8
      // would otherwise keep until allocation triggers a GC), collected now when node allows it
      collectLoadGarbage();
    }
  };

  let autoQueued = false;
  const maybeAutoFineTune = (): void => {
    if (!fineTuneEnabled || ft === null || ft.everyNewSamples === 0 || autoQueued || ftRun !== null || sampleBuffer === null) return;
    if (sampleBuffer.fresh < ft.everyNewSamples || sampleBuffer.count < ft.minSamples) return;
    autoQueued = true;
    setImmediate(() => {
      autoQueued = false;
      runFineTune('count').catch((e: unknown) => log(`fine-tune failed: ${errText(e)}`));
    });
  };
  const scheduleTimer = ft !== null && ft.scheduleSec > 0 ? setInterval(() => {
    if (!fineTuneEnabled || ftRun !== null || sampleBuffer === null || sampleBuffer.fresh === 0 || sampleBuffer.count < ft.minSamples) return;
    runFineTune('schedule').catch((e: unknown) => log(`fine-tune failed: ${errText(e)}`));
  }, ft.scheduleSec * 1000) : null;

  // ---- reporting ----
  let reportIntervalMs = cfg.reportIntervalMs;
  let reportTimer = setInterval(() => publisher.flush(), reportIntervalMs);
  const probationTimer = setInterval(() => { if (probation !== null) judge(probation.tick()); }, 1000);

  const sources: string[] = cfg.sources.map((s) => s.kind);
  const status = (): Record<string, JsonValue> => {
    const e = engine!;
    const b = sampleBuffer;
    const p95 = recentP95();
    const pr = probation as Probation | null;
    return {
      device: cfg.device, fleet: cfg.fleet, agent: AGENT_VERSION, uptimeS: Math.round(process.uptime()),
      broker: cfg.broker === null ? null : redactUrl(cfg.broker.url),
      online: telemetry.transport.connected, protocol: telemetry.transport.protocolVersion,
      model: toJson(current.info),
      store: { state: store.state(), previous: store.previous()?.version ?? null },
      probation: pr === null ? null : { inferences: pr.inferences, of: cfg.probation.inferences },
      inference: { count: e.count, errors: e.errors, nonFinite: e.nonFinite, recentP95Us: p95, maxBatch: e.maxBatch },
      fineTune: tuner === null || b === null ? null : {
        enabled: fineTuneEnabled, running: ftRun !== null, buffered: b.count, capacity: b.capacity, dropped: b.dropped,
        added: b.added, fresh: b.fresh, runs: tuner.runs, accepted: tuner.accepted, rolledBack: tuner.rolledBack,
        lastGood: tuner.lastGood, last: toJson(tuner.last),
      },
      outboxDepth: telemetry.outbox.depth, reportIntervalMs, sources,
      rssBytes: process.memoryUsage().rss, arenaBytes: e.arenaBytes + (tuner?.arenaBytes ?? 0),
    };
  };

  // ---- commands ----
  let updating = false;
  const target: CommandTarget = {
    status: () => { publisher.flush(); return status(); },
    fineTuneStart: () => {
      if (tuner === null) throw new EdgennError('STATE', 'fine-tuning is not configured (no fineTune section)');
      fineTuneEnabled = true;
      maybeAutoFineTune();
      return { enabled: true };
    },
    fineTuneStop: () => {
      if (tuner === null) throw new EdgennError('STATE', 'fine-tuning is not configured (no fineTune section)');
      fineTuneEnabled = false;
      tuner.requestStop();
      return { enabled: false, stopping: ftRun !== null };
    },
    fineTuneNow: async () => toJson(await runFineTune('command')),
    setReportInterval: (ms: number) => {
      reportIntervalMs = ms;
      clearInterval(reportTimer);
      reportTimer = setInterval(() => publisher.flush(), ms);
      return { reportIntervalMs: ms };
    },
    update: async (src) => {
      if (updating || swapping !== null) throw new EdgennError('STATE', 'another update or rollback is in progress');
      updating = true;
      const from = current.info;
      try {
        const what = 'ref' in src ? src.ref : 'inline artifact';
        const bytes = 'ref' in src
          ? await (await import('../updates/fetch.js')).fetchArtifact(src.ref, { maxBytes: cfg.updates.maxArtifactBytes, ...(cfg.updates.fileRoots.length > 0 ? { fileRoots: cfg.updates.fileRoots } : {}) })
          : src.artifact;
        // verify (signature first: nothing is written for an artifact that does not verify) →
        // stage → validate (smokeCheck) → commit, all in devices/updates.
        const { installUpdate } = await import('../updates/update.js');
        const result = await installUpdate(store, bytes, {
          publicKeys, check: smokeCheck,
          agentVersion: AGENT_VERSION, maxArtifactBytes: cfg.updates.maxArtifactBytes, acceptFormats: AGENT_MODEL_FORMATS, source: what,
        });
        const baseline = recentP95(); // the previous model's latency, before install() resets it
        await install(result.installed);
        startProbation(baseline);
        const data = { from: toJson(from), to: toJson(current.info), keyId: result.keyId, probation: { inferences: cfg.probation.inferences, durationSec: cfg.probation.durationSec } };
        event('model-swapped', data);
        log(`model updated ${from.version} -> ${current.info.version}`);
        return data;
      } catch (e) {
        decoded = null; // a model that passed its smoke check but was not installed
        const code = e instanceof EdgennError ? e.code : 'ERROR';
        event('update-rejected', { error: errText(e), code, serving: toJson(current.info) });
        throw e;
      } finally {
        updating = false;
      }
    },
    rollback: async () => {
      if (updating || swapping !== null) throw new EdgennError('STATE', 'an update or rollback is in progress');
      const from = current.info;
      const p = (async () => {
        const prev = store.rollback();
        probation = null;
        await install(prev);
      })();
      swapping = p;
      try {
        await p;
      } finally {
        swapping = null;
      }
      const data = { reason: 'command', from: toJson(from), to: toJson(current.info) };
      event('model-rolled-back', data);
      return data;
    },
  };
  const commandStats = attachCommands(publisher, telemetry.transport, target, log);

  // ---- sources ----
  const stops: Array<() => void | Promise<void>> = [];
  const httpAddresses: string[] = [];
  let lineSource: LineSource | null = null;
  const csvJobs: Array<() => void> = [];
  try {
    for (const s of cfg.sources) {
      switch (s.kind) {
        // each source kind's module is imported when a source of that kind is configured
        case 'stdin': {
          const { startLineSource } = await import('./sources/lines.js');
          lineSource = startLineSource({
            input: opts.stdin ?? process.stdin, output: opts.stdout ?? process.stdout, port,
            ...(opts.onStdinEnd !== undefined ? { onEnd: opts.onStdinEnd } : {}),
          });
          const ls = lineSource;
          stops.push(() => ls.stop());
          break;
        }
        case 'tail': {
          const { startTailSource } = await import('./sources/tail.js');
          const t = startTailSource({
            file: s.path, stateDir: cfg.stateDir, port, pollMs: s.pollMs, log,
            ...(s.output !== undefined ? { output: s.output } : {}),
          });
          stops.push(() => t.stop());
          break;
        }
        case 'csv': {
          const { runCsvBatch } = await import('./sources/csv.js');
          csvJobs.push(() => {
            try {
              const r = runCsvBatch({ file: s.path, samples: s.samples, engine: engine!, port, ...(s.output !== undefined ? { output: s.output } : {}) });
              event('csv-batch', { file: s.path, rows: r.rows, mode: r.mode, output: r.output, rejected: r.rejected });
            } catch (e) {
              event('csv-batch-failed', { file: s.path, error: errText(e) });
              log(`csv source ${s.path}: ${errText(e)}`);
            }
          });
          break;
        }
        case 'http': {
          const { startHttpSource } = await import('./sources/http.js');
          const h = await startHttpSource('socket' in s ? { socket: s.socket } : { host: s.host, port: s.port }, port, s.maxBodyBytes);
          httpAddresses.push(h.address);
          stops.push(() => h.close());
          break;
        }
        default: {
          const never: never = s;
          throw new EdgennError('UNSUPPORTED', `source ${String(never)}`);
        }
      }
    }
  } catch (e) {
    for (const s of stops.reverse()) await s();
    clearInterval(reportTimer); clearInterval(probationTimer); if (scheduleTimer !== null) clearInterval(scheduleTimer);
    await telemetry.stop(200);
    throw e;
  }
  const csvDone = new Promise<void>((resolve) => setImmediate(() => { for (const j of csvJobs) j(); resolve(); }));

  collectLoadGarbage();
  for (const ev of pendingEvents) event(ev.type, ev.data);
  event('agent-started', {
    model: toJson(current.info), sources, offline: cfg.broker === null,
    fineTune: ft !== null, startMs: Math.round(performance.now() - t0),
  });
  log(`agent ${cfg.device} (fleet ${cfg.fleet}) serving ${current.info.id}@${current.info.version} ` +
    `[${sources.join(', ') || 'no sources'}]${httpAddresses.length > 0 ? ` on ${httpAddresses.join(', ')}` : ''}; ` +
    `${cfg.broker === null ? 'offline (telemetry kept in the outbox)' : `telemetry to ${redactUrl(cfg.broker.url)}`}`);

  let stopped = false;
  return {
    config: cfg, telemetry, port, commands: target, commandStats, httpAddresses, csvDone,
    get model() { return current.info; },
    get buffer() { return sampleBuffer; },
    fineTune: (trigger = 'local') => runFineTune(trigger),
    status,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      clearInterval(reportTimer);
      clearInterval(probationTimer);
      if (scheduleTimer !== null) clearInterval(scheduleTimer);
      for (const s of stops.reverse()) await s();
      await stopFineTune();
      if (swapping !== null) { try { await swapping; } catch { /* reported */ } }
      publisher.flush();
      await telemetry.stop(1000);
    },
  };
}
