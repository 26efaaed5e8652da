// The device agent's configuration file (device.json; schema in CONFIG.md): its types, and a
// validator that checks everything before the agent starts anything — unknown keys, wrong types,
// out-of-range numbers, files that must exist — and reports every problem at once, each named by
// its key path (`broker.tls.ca`, `sources[1].path`, `fineTune.optimizer.lr`).
//
// What it is: pure validation plus existence checks of the files the config names (relative
// paths resolve against the config file's folder). What it is not: it opens no connection, loads
// no model and creates no directory (the agent does, after validation passed).
// Secrets (broker.password, the contents of broker.passwordFile) are never part of an error.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { LOSS_KINDS, type LossSpec } from '../../runtime/losses/spec.js';
import type { OptimizerConfig } from '../../runtime/optim/optimizer.js';

export interface BrokerConfig {
  /** mqtt://host:port or mqtts://host:port */
  readonly url: string;
  /** TLS files (absolute paths after validation): trusted CA, client certificate, client key. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly username?: string;
  /** Inline password, or read from passwordFile (first line) at start. Never logged. */
  readonly password?: string;
  readonly passwordFile?: string;
  /** MQTT client id; default `edgenn-<fleet>-<device>`. */
  readonly clientId?: string;
  readonly protocol: 'auto' | 5 | 4;
  readonly keepaliveSec: number;
}

export interface ModelConfig {
  /** The model store directory (signed updates live here); absolute. */
  readonly store: string;
  /** The model file served when the store holds none yet (first boot); absolute, must exist. */
  readonly path?: string;
  /** Model id reported in telemetry; default the file name without extension. */
  readonly id?: string;
  /** Model version reported in telemetry; default "0" (the store's manifest wins when present). */
  readonly version?: string;
}

export interface SignatureConfig {
  /** Per-sample dims of the model's input and output (no batch dimension). */
  readonly input: readonly number[];
  readonly output: readonly number[];
}

export type SourceConfig =
  | { readonly kind: 'stdin' }
  | { readonly kind: 'tail'; readonly path: string; readonly output?: string; readonly pollMs: number }
  | { readonly kind: 'csv'; readonly path: string; readonly output?: string; readonly samples: boolean }
  | { readonly kind: 'http'; readonly host: string; readonly port: number; readonly maxBodyBytes: number }
  | { readonly kind: 'http'; readonly socket: string; readonly maxBodyBytes: number };

export interface FineTuneConfig {
  /** Fine-tuning starts enabled; the `fine-tune.stop` command pauses it. */
  readonly enabled: boolean;
  readonly loss: LossSpec;
  readonly optimizer: OptimizerConfig;
  /** Sample buffer cap; the oldest sample is dropped when full. */
  readonly bufferSize: number;
  /** No fine-tune runs with fewer buffered samples. */
  readonly minSamples: number;
  /** Run when this many new samples arrived since the last run (0 = never by count). */
  readonly everyNewSamples: number;
  /** Run every this many seconds when new samples arrived (0 = never by schedule). */
  readonly scheduleSec: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly validationSplit: number;
  readonly clipGradNorm?: number;
  /** Checkpoints kept on disk (newest first); at least 1 (the last good one). */
  readonly keepCheckpoints: number;
  readonly seed: number;
}

export interface ProbationConfig {
  /** Inferences a freshly swapped model serves on probation… */
  readonly inferences: number;
  /** …or this many seconds, whichever ends first. */
  readonly durationSec: number;
  /** Roll back when the probation p95 latency exceeds the previous model's p95 times this
   * (a NaN/Inf output rolls back at once, whatever this is). */
  readonly latencyFactor: number;
}

export interface UpdatesConfig {
  /** Ed25519 public keys (PEM files, absolute) that may sign model artifacts. */
  readonly publicKeys: readonly string[];
  /** Artifacts larger than this are refused before decoding. */
  readonly maxArtifactBytes: number;
  /** Folders a `file://` artifact reference must lie in (absolute); empty: any local file. */
  readonly fileRoots: readonly string[];
}

export interface AgentConfig {
  /** The config file (absolute), for messages. */
  readonly file: string;
  readonly device: string;
  readonly fleet: string;
  /** Outbox, seq counter, checkpoints, tail offsets (absolute); created at start. */
  readonly stateDir: string;
  /** null: run offline, telemetry is kept in the outbox until a broker is configured. */
  readonly broker: BrokerConfig | null;
  readonly model: ModelConfig;
  readonly signature: SignatureConfig;
  readonly maxBatch: number;
  readonly sources: readonly SourceConfig[];
  readonly fineTune: FineTuneConfig | null;
  readonly reportIntervalMs: number;
  readonly probation: ProbationConfig;
  readonly updates: UpdatesConfig;
}

/** Thrown when a config has problems; `problems` lists each as `<key path>: <what>`. */
export class AgentConfigError extends EdgennError {
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[]) {
    super('DATA', `invalid agent config (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`, { file });
    this.problems = problems;
  }
}

// ---- a collecting checker: each failure records "<path>: message" and returns undefined ----

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (length ${v.length})`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

type Obj = Readonly<Record<string, unknown>>;

class Checker {
  readonly problems: string[] = [];
  constructor(readonly baseDir: string) {}

  bad(at: string, msg: string): undefined {
    this.problems.push(`${at}: ${msg}`);
    return undefined;
  }

  object(at: string, v: unknown, keys: readonly string[]): Obj | undefined {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.bad(at, `expected an object, got ${describe(v)}`);
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) this.bad(at === '' ? k : `${at}.${k}`, `unknown key (known keys: ${keys.join(', ')})`);
    }
    return v as Obj;
  }

  string(at: string, v: unknown, required: boolean): string | undefined {
    if (v === undefined) return required ? this.bad(at, 'missing (a non-empty string)') : undefined;
    if (typeof v !== 'string' || v === '') return this.bad(at, `expected a non-empty string, got ${describe(v)}`);
    return v;
  }

  /** A string that is never echoed back in a message (it may be a secret). */
  secret(at: string, v: unknown): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') return this.bad(at, `expected a non-empty string, got ${typeof v}`);
    return v;
  }

  int(at: string, v: unknown, dflt: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (v === undefined) return dflt !== undefined ? dflt : this.bad(at, `missing (an integer >= ${min})`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      return this.bad(at, `expected an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}, got ${describe(v)}`);
    }
    return v;
  }

  num(at: string, v: unknown, dflt: number | undefined, ok: (x: number) => boolean, what: string): number | undefined {
    if (v === undefined) return dflt !== undefined ? dflt : this.bad(at, `missing (${what})`);
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) return this.bad(at, `expected ${what}, got ${describe(v)}`);
    return v;
  }

  bool(at: string, v: unknown, dflt: boolean): boolean | undefined {
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') return this.bad(at, `expected true or false, got ${describe(v)}`);
    return v;
  }

  dims(at: string, v: unknown): number[] | undefined {
    if (!Array.isArray(v) || v.length === 0) return this.bad(at, `expected a non-empty array of positive integers (per-sample dims), got ${describe(v)}`);
    const out: number[] = [];
    for (let i = 0; i < v.length; i++) {
      const d = this.int(`${at}[${i}]`, v[i], undefined, 1);
      if (d === undefined) return undefined;
      out.push(d);
    }
    return out;
  }

  numbers(at: string, v: unknown): number[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      return this.bad(at, `expected an array of finite numbers, got ${describe(v)}`);
    }
    return v as number[];
  }

  /** A path resolved against the config's folder; `mustExist`: 'file' | 'dir' | 'parent' | 'none'. */
  file(at: string, v: unknown, required: boolean, mustExist: 'file' | 'dir' | 'parent' | 'none'): string | undefined {
    const s = this.string(at, v, required);
    if (s === undefined) return undefined;
    const p = path.resolve(this.baseDir, s);
    const check = mustExist === 'parent' ? path.dirname(p) : p;
    if (mustExist === 'none') return p;
    let st: fs.Stats;
    try {
      st = fs.statSync(check);
    } catch {
      return this.bad(at, mustExist === 'parent' ? `folder ${check} does not exist` : `${mustExist === 'dir' ? 'folder' : 'file'} ${check} does not exist`);
    }
    if (mustExist === 'file' && !st.isFile()) return this.bad(at, `${check} is not a regular file`);
    if ((mustExist === 'dir' || mustExist === 'parent') && !st.isDirectory()) return this.bad(at, `${check} is not a folder`);
    return p;
  }
}

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const TOP_KEYS = ['$schema', 'device', 'fleet', 'stateDir', 'broker', 'model', 'signature', 'maxBatch', 'sources',
  'fineTune', 'reportIntervalMs', 'probation', 'updates'] as const;
const BROKER_KEYS = ['url', 'tls', 'username', 'password', 'passwordFile', 'clientId', 'protocol', 'keepaliveSec'] as const;
const TLS_KEYS = ['ca', 'cert', 'key'] as const;
const MODEL_KEYS = ['store', 'path', 'id', 'version'] as const;
const SIGNATURE_KEYS = ['input', 'output'] as const;
const FT_KEYS = ['enabled', 'loss', 'optimizer', 'bufferSize', 'minSamples', 'everyNewSamples', 'scheduleSec', 'epochs',
  'batchSize', 'validationSplit', 'clipGradNorm', 'keepCheckpoints', 'seed'] as const;
const PROBATION_KEYS = ['inferences', 'durationSec', 'latencyFactor'] as const;
const UPDATES_KEYS = ['publicKeys', 'maxArtifactBytes', 'fileRoots'] as const;
const LOSS_KEYS: Readonly<Record<LossSpec['kind'], readonly string[]>> = {
  'cross-entropy': ['kind', 'target', 'reduction', 'weight', 'ignoreIndex', 'labelSmoothing'],
  nll: ['kind', 'reduction', 'weight', 'ignoreIndex'],
  mse: ['kind', 'reduction'],
  'bce-with-logits': ['kind', 'reduction', 'posWeight'],
  bce: ['kind', 'reduction'],
  'kl-div': ['kind', 'reduction', 'logTarget'],
};
const SGD_KEYS = ['kind', 'lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'] as const;
const ADAM_KEYS = ['kind', 'lr', 'betas', 'eps', 'weightDecay', 'amsgrad'] as const;

function checkBroker(c: Checker, v: unknown): BrokerConfig | null | undefined {
  if (v === undefined || v === null) return null;
  const o = c.object('broker', v, BROKER_KEYS);
  if (o === undefined) return undefined;
  const url = c.string('broker.url', o.url, true);
  if (url !== undefined) {
    let u: URL | null = null;
    try { u = new URL(url); } catch { /* below */ }
    // NOTE: the message must not echo the URL: it may carry user:password.
    if (u === null) c.bad('broker.url', 'not a valid URL (expected mqtt://host:port or mqtts://host:port)');
    else if (!['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:'].includes(u.protocol)) {
      c.bad('broker.url', `unsupported scheme ${JSON.stringify(u.protocol)} (expected mqtt:, mqtts:, ws: or wss:)`);
    }
  }
  let ca: string | undefined, cert: string | undefined, key: string | undefined;
  if (o.tls !== undefined) {
    const t = c.object('broker.tls', o.tls, TLS_KEYS);
    if (t !== undefined) {
      ca = c.file('broker.tls.ca', t.ca, false, 'file');
      cert = c.file('broker.tls.cert', t.cert, false, 'file');
      key = c.file('broker.tls.key', t.key, false, 'file');
      if ((t.cert === undefined) !== (t.key === undefined)) {
        c.bad('broker.tls', 'cert and key go together (a client certificate needs its private key)');
      }
    }
  }
  const username = c.string('broker.username', o.username, false);
  const password = c.secret('broker.password', o.password);
  const passwordFile = c.file('broker.passwordFile', o.passwordFile, false, 'file');
  if (o.password !== undefined && o.passwordFile !== undefined) c.bad('broker', 'give password or passwordFile, not both');
  if ((password !== undefined || passwordFile !== undefined) && username === undefined) c.bad('broker.username', 'missing (a password needs a username)');
  const clientId = c.string('broker.clientId', o.clientId, false);
  let protocol: 'auto' | 5 | 4 | undefined = 'auto';
  if (o.protocol !== undefined) {
    if (o.protocol === 'auto' || o.protocol === 5 || o.protocol === 4) protocol = o.protocol;
    else protocol = c.bad('broker.protocol', `expected "auto", 5 or 4, got ${describe(o.protocol)}`);
  }
  const keepaliveSec = c.int('broker.keepaliveSec', o.keepaliveSec, 30, 1, 65535);
  if (url === undefined || protocol === undefined || keepaliveSec === undefined) return undefined;
  return {
    url, protocol, keepaliveSec,
    ...(ca !== undefined ? { ca } : {}), ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}),
    ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}),
    ...(passwordFile !== undefined ? { passwordFile } : {}), ...(clientId !== undefined ? { clientId } : {}),
  };
}

function checkLoss(c: Checker, v: unknown): LossSpec | undefined {
  const at = 'fineTune.loss';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return c.bad(at, `expected an object like {"kind": "cross-entropy"}, got ${describe(v)}`);
  const kind = (v as Obj).kind;
  if (typeof kind !== 'string' || !(LOSS_KINDS as readonly string[]).includes(kind)) {
    return c.bad(`${at}.kind`, `expected one of ${LOSS_KINDS.join(', ')}, got ${describe(kind)}`);
  }
  const k = kind as LossSpec['kind'];
  const o = c.object(at, v, LOSS_KEYS[k]);
  if (o === undefined) return undefined;
  const n0 = c.problems.length;
  if (o.reduction !== undefined && !['mean', 'sum', 'batchmean'].includes(o.reduction as string)) c.bad(`${at}.reduction`, `expected "mean" or "sum", got ${describe(o.reduction)}`);
  if (o.target !== undefined && o.target !== 'index' && o.target !== 'probs') c.bad(`${at}.target`, `expected "index" or "probs", got ${describe(o.target)}`);
  c.numbers(`${at}.weight`, o.weight);
  c.numbers(`${at}.posWeight`, o.posWeight);
  if (o.ignoreIndex !== undefined) c.int(`${at}.ignoreIndex`, o.ignoreIndex, undefined, Number.MIN_SAFE_INTEGER);
  if (o.labelSmoothing !== undefined) c.num(`${at}.labelSmoothing`, o.labelSmoothing, undefined, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
  if (o.logTarget !== undefined) c.bool(`${at}.logTarget`, o.logTarget, false);
  return c.problems.length === n0 ? (o as unknown as LossSpec) : undefined;
}

function checkOptimizer(c: Checker, v: unknown): OptimizerConfig | undefined {
  const at = 'fineTune.optimizer';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return c.bad(at, `expected an object like {"kind": "sgd", "lr": 0.01}, got ${describe(v)}`);
  const kind = (v as Obj).kind;
  const n0 = c.problems.length;
  if (kind === 'sgd') {
    const o = c.object(at, v, SGD_KEYS);
    if (o === undefined) return undefined;
    c.num(`${at}.lr`, o.lr, undefined, (x) => x > 0, 'a number > 0');
    for (const k of ['momentum', 'dampening', 'weightDecay'] as const) if (o[k] !== undefined) c.num(`${at}.${k}`, o[k], undefined, (x) => x >= 0, 'a number >= 0');
    if (o.nesterov !== undefined) c.bool(`${at}.nesterov`, o.nesterov, false);
    return c.problems.length === n0 ? (o as unknown as OptimizerConfig) : undefined;
  }
  if (kind === 'adam' || kind === 'adamw') {
    const o = c.object(at, v, ADAM_KEYS);
    if (o === undefined) return undefined;
    if (o.lr !== undefined) c.num(`${at}.lr`, o.lr, undefined, (x) => x > 0, 'a number > 0');
    if (o.eps !== undefined) c.num(`${at}.eps`, o.eps, undefined, (x) => x > 0, 'a number > 0');
    if (o.weightDecay !== undefined) c.num(`${at}.weightDecay`, o.weightDecay, undefined, (x) => x >= 0, 'a number >= 0');
    if (o.amsgrad !== undefined) c.bool(`${at}.amsgrad`, o.amsgrad, false);
    if (o.betas !== undefined) {
      const b = c.numbers(`${at}.betas`, o.betas);
      if (b !== undefined && (b.length !== 2 || b.some((x) => !(x >= 0 && x < 1)))) c.bad(`${at}.betas`, 'expected two numbers in [0, 1)');
    }
    return c.problems.length === n0 ? (o as unknown as OptimizerConfig) : undefined;
  }
  return c.bad(`${at}.kind`, `expected "sgd", "adam" or "adamw", got ${describe(kind)}`);
}

function checkFineTune(c: Checker, v: unknown): FineTuneConfig | null | undefined {
  if (v === undefined || v === null) return null;
  const o = c.object('fineTune', v, FT_KEYS);
  if (o === undefined) return undefined;
  const at = (k: string): string => `fineTune.${k}`;
  const enabled = c.bool(at('enabled'), o.enabled, true);
  const loss = o.loss === undefined ? c.bad(at('loss'), 'missing (e.g. {"kind": "cross-entropy"})') : checkLoss(c, o.loss);
  const optimizer = o.optimizer === undefined ? c.bad(at('optimizer'), 'missing (e.g. {"kind": "sgd", "lr": 0.01})') : checkOptimizer(c, o.optimizer);
  const bufferSize = c.int(at('bufferSize'), o.bufferSize, 1024, 2, 1 << 24);
  const minSamples = c.int(at('minSamples'), o.minSamples, 32, 2);
  const everyNewSamples = c.int(at('everyNewSamples'), o.everyNewSamples, 0, 0);
  const scheduleSec = c.num(at('scheduleSec'), o.scheduleSec, 0, (x) => x >= 0, 'a number of seconds >= 0');
  const epochs = c.int(at('epochs'), o.epochs, 3, 1, 10_000);
  const batchSize = c.int(at('batchSize'), o.batchSize, 16, 1, 1 << 16);
  const validationSplit = c.num(at('validationSplit'), o.validationSplit, 0.2, (x) => x > 0 && x < 1, 'a fraction in (0, 1)');
  const clipGradNorm = o.clipGradNorm === undefined ? undefined : c.num(at('clipGradNorm'), o.clipGradNorm, undefined, (x) => x > 0, 'a number > 0');
  const keepCheckpoints = c.int(at('keepCheckpoints'), o.keepCheckpoints, 3, 1, 1000);
  const seed = c.int(at('seed'), o.seed, 0, 0, 0xffffffff);
  if (minSamples !== undefined && bufferSize !== undefined && minSamples > bufferSize) c.bad(at('minSamples'), `must be <= fineTune.bufferSize (${bufferSize})`);
  if (enabled === undefined || loss === undefined || optimizer === undefined || bufferSize === undefined || minSamples === undefined
      || everyNewSamples === undefined || scheduleSec === undefined || epochs === undefined || batchSize === undefined
      || validationSplit === undefined || keepCheckpoints === undefined || seed === undefined) return undefined;
  if (o.clipGradNorm !== undefined && clipGradNorm === undefined) return undefined;
  return {
    enabled, loss, optimizer, bufferSize, minSamples, everyNewSamples, scheduleSec, epochs, batchSize, validationSplit,
    keepCheckpoints, seed, ...(clipGradNorm !== undefined ? { clipGradNorm } : {}),
  };
}

function checkSource(c: Checker, at: string, v: unknown): SourceConfig | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return c.bad(at, `expected an object with "kind", got ${describe(v)}`);
  const kind = (v as Obj).kind;
  switch (kind) {
    case 'stdin': {
      return c.object(at, v, ['kind']) === undefined ? undefined : { kind };
    }
    case 'tail': {
      const o = c.object(at, v, ['kind', 'path', 'output', 'pollMs']);
      if (o === undefined) return undefined;
      // The tailed file may not exist yet (a producer creates it later); its folder must.
      const p = c.file(`${at}.path`, o.path, true, 'parent');
      const out = c.file(`${at}.output`, o.output, false, 'parent');
      const pollMs = c.int(`${at}.pollMs`, o.pollMs, 500, 10, 3_600_000);
      if (p === undefined || pollMs === undefined || (o.output !== undefined && out === undefined)) return undefined;
      return { kind, path: p, pollMs, ...(out !== undefined ? { output: out } : {}) };
    }
    case 'csv': {
      const o = c.object(at, v, ['kind', 'path', 'output', 'samples']);
      if (o === undefined) return undefined;
      const p = c.file(`${at}.path`, o.path, true, 'file');
      const out = c.file(`${at}.output`, o.output, false, 'parent');
      const samples = c.bool(`${at}.samples`, o.samples, false);
      if (p === undefined || samples === undefined || (o.output !== undefined && out === undefined)) return undefined;
      return { kind, path: p, samples, ...(out !== undefined ? { output: out } : {}) };
    }
    case 'http': {
      const o = c.object(at, v, ['kind', 'host', 'port', 'socket', 'maxBodyBytes']);
      if (o === undefined) return undefined;
      const maxBodyBytes = c.int(`${at}.maxBodyBytes`, o.maxBodyBytes, 1 << 20, 64, 1 << 30);
      if (o.socket !== undefined) {
        if (o.host !== undefined || o.port !== undefined) c.bad(at, 'give socket, or host and port, not both');
        const socket = c.file(`${at}.socket`, o.socket, true, 'parent');
        return socket === undefined || maxBodyBytes === undefined ? undefined : { kind, socket, maxBodyBytes };
      }
      const host = c.string(`${at}.host`, o.host, false) ?? '127.0.0.1';
      // NOTE: the endpoint is for processes on the board; anything but loopback exposes an
      // unauthenticated inference and training endpoint to the network.
      if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') c.bad(`${at}.host`, `must be a loopback address (127.0.0.1, ::1 or localhost), got ${JSON.stringify(host)}`);
      const port = c.int(`${at}.port`, o.port, undefined, 0, 65535);
      return port === undefined || maxBodyBytes === undefined ? undefined : { kind, host, port, maxBodyBytes };
    }
    default:
      return c.bad(`${at}.kind`, `expected one of stdin, tail, csv, http, got ${describe(kind)}`);
  }
}

/** Validates a parsed config; `file` is the config's path (relative paths resolve against its
 * folder). Throws AgentConfigError listing every problem. */
export function validateAgentConfig(raw: unknown, file: string): AgentConfig {
  const abs = path.resolve(file);
  const c = new Checker(path.dirname(abs));
  const o = c.object('', raw, TOP_KEYS);
  if (o === undefined) throw new AgentConfigError(abs, c.problems.map((p) => p.replace(/^: /, 'config: ')));

  const device = c.string('device', o.device, true);
  if (device !== undefined && !NAME_RE.test(device)) c.bad('device', 'expected 1-64 characters of [A-Za-z0-9._-] (it is an MQTT topic level)');
  const fleet = c.string('fleet', o.fleet, true);
  if (fleet !== undefined && !NAME_RE.test(fleet)) c.bad('fleet', 'expected 1-64 characters of [A-Za-z0-9._-] (it is an MQTT topic level)');
  const stateDir = c.file('stateDir', o.stateDir, true, 'parent');
  const broker = checkBroker(c, o.broker);

  let model: ModelConfig | undefined;
  const mo = c.object('model', o.model, MODEL_KEYS);
  if (mo !== undefined) {
    const store = c.file('model.store', mo.store, true, 'parent');
    const p = c.file('model.path', mo.path, false, 'file');
    const id = c.string('model.id', mo.id, false);
    const version = c.string('model.version', mo.version, false);
    if (store !== undefined && (mo.path === undefined || p !== undefined)) {
      model = { store, ...(p !== undefined ? { path: p } : {}), ...(id !== undefined ? { id } : {}), ...(version !== undefined ? { version } : {}) };
    }
  }

  let signature: SignatureConfig | undefined;
  const so = c.object('signature', o.signature, SIGNATURE_KEYS);
  if (so !== undefined) {
    const input = c.dims('signature.input', so.input);
    const output = c.dims('signature.output', so.output);
    if (input !== undefined && output !== undefined) signature = { input, output };
  }
  const maxBatch = c.int('maxBatch', o.maxBatch, 32, 1, 1 << 16);

  const sources: SourceConfig[] = [];
  if (o.sources !== undefined) {
    if (!Array.isArray(o.sources)) c.bad('sources', `expected an array, got ${describe(o.sources)}`);
    else o.sources.forEach((s, i) => { const r = checkSource(c, `sources[${i}]`, s); if (r !== undefined) sources.push(r); });
    if (Array.isArray(o.sources) && o.sources.filter((s) => (s as Obj | null)?.kind === 'stdin').length > 1) c.bad('sources', 'at most one stdin source');
  }
  const fineTune = checkFineTune(c, o.fineTune);
  const reportIntervalMs = c.int('reportIntervalMs', o.reportIntervalMs, 10_000, 100, 24 * 3600 * 1000);

  let probation: ProbationConfig | undefined;
  const po = o.probation === undefined ? {} : c.object('probation', o.probation, PROBATION_KEYS);
  if (po !== undefined) {
    const inferences = c.int('probation.inferences', po.inferences, 100, 1);
    const durationSec = c.num('probation.durationSec', po.durationSec, 600, (x) => x > 0, 'a number of seconds > 0');
    const latencyFactor = c.num('probation.latencyFactor', po.latencyFactor, 3, (x) => x >= 1, 'a number >= 1');
    if (inferences !== undefined && durationSec !== undefined && latencyFactor !== undefined) probation = { inferences, durationSec, latencyFactor };
  }

  let updates: UpdatesConfig | undefined;
  const uo = o.updates === undefined ? {} : c.object('updates', o.updates, UPDATES_KEYS);
  if (uo !== undefined) {
    const keys: string[] = [];
    if (uo.publicKeys !== undefined && !Array.isArray(uo.publicKeys)) c.bad('updates.publicKeys', `expected an array of PEM file paths, got ${describe(uo.publicKeys)}`);
    else for (const [i, k] of ((uo.publicKeys as unknown[] | undefined) ?? []).entries()) {
      const p = c.file(`updates.publicKeys[${i}]`, k, true, 'file');
      if (p !== undefined) keys.push(p);
    }
    const roots: string[] = [];
    if (uo.fileRoots !== undefined && !Array.isArray(uo.fileRoots)) c.bad('updates.fileRoots', `expected an array of folders, got ${describe(uo.fileRoots)}`);
    else for (const [i, r] of ((uo.fileRoots as unknown[] | undefined) ?? []).entries()) {
      const p = c.file(`updates.fileRoots[${i}]`, r, true, 'dir');
      if (p !== undefined) roots.push(p);
    }
    const maxArtifactBytes = c.int('updates.maxArtifactBytes', uo.maxArtifactBytes, 64 * 1024 * 1024, 1024);
    if (maxArtifactBytes !== undefined) updates = { publicKeys: keys, maxArtifactBytes, fileRoots: roots };
  }

  if (model !== undefined && model.path === undefined) {
    // Without an initial model file the store must already hold one (checked when loading).
    if (!fs.existsSync(model.store)) c.bad('model.path', `missing: the model store ${model.store} does not exist yet, so a first model file is needed`);
  }

  if (c.problems.length > 0 || device === undefined || fleet === undefined || stateDir === undefined || broker === undefined
      || model === undefined || signature === undefined || maxBatch === undefined || fineTune === undefined
      || reportIntervalMs === undefined || probation === undefined || updates === undefined) {
    throw new AgentConfigError(abs, c.problems.length > 0 ? c.problems : ['config: incomplete']);
  }
  if (fineTune !== null && fineTune.batchSize > fineTune.bufferSize) {
    throw new AgentConfigError(abs, [`fineTune.batchSize: must be <= fineTune.bufferSize (${fineTune.bufferSize})`]);
  }
  return { file: abs, device, fleet, stateDir, broker, model, signature, maxBatch, sources, fineTune, reportIntervalMs, probation, updates };
}

/** Reads and validates a config file. */
export function loadAgentConfig(file: string): AgentConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new EdgennError('IO', `cannot read agent config: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: abs });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new EdgennError('DECODE', `agent config is not valid JSON: ${(e as Error).message}`, { file: abs });
  }
  return validateAgentConfig(raw, abs);
}

/** The broker password, from the config or its passwordFile (first line). Never log the result. */
export function brokerPassword(b: BrokerConfig): string | undefined {
  if (b.password !== undefined) return b.password;
  if (b.passwordFile === undefined) return undefined;
  try {
    return fs.readFileSync(b.passwordFile, 'utf8').split(/\r?\n/)[0]!;
  } catch (e) {
    throw new EdgennError('IO', `cannot read broker.passwordFile: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { file: b.passwordFile });
  }
}
