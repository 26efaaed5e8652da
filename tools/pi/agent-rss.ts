// The agent's resident memory, measured one way for both `npm run measure:pi` (tools/pi/measure.ts)
// and the test that holds the budget (test/tools/bundle/agent-rss.test.ts): the device bundle is
// started exactly as the systemd unit starts it (ExecStart's node flags, Environment= variables),
// serving a 784-256-128-10 model over a loopback HTTP source, offline unless a broker is given;
// VmRSS of the node process (/proc/<pid>/status) is read
//   serving:     when it logs "serving ... on http://127.0.0.1:PORT" (the model just loaded);
//   warm:        after `warmup` inferences and `idleMs` of idleness (V8's memory reducer shrinks
//                the heap ~8 s after start-up's last full GC: what an idle board settles to);
//   after:       right after `inferences` requests on one keep-alive connection (the young
//                generation is full-size then, nothing had time to shrink);
//   peak:        the largest of `after` and of a sample every 100 requests during them;
//   hwm:         VmHWM, the largest RSS of the process's life (loading the model included).
// With `fineTune`, the config enables on-device training and, after the warm-up inferences, 256
// labelled samples are posted and one fine-tune is run (POST /fine-tune) before the idle period.
// Linux only (/proc). What it is not: a benchmark (requests/s includes HTTP and JSON).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { stringifyJsonModel, type JsonModelSpec } from '../../importers/json-model.js';

/** What the systemd unit runs: node's flags (between the node binary and the bundle), the bundle
 * and its arguments, and the Environment= variables. */
export interface UnitCommand {
  readonly node: string;
  readonly flags: readonly string[];
  readonly bundle: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Reads ExecStart= and Environment= of a unit file; throws unless ExecStart is `<node> [flags] <x.cjs> ...`. */
export function unitCommand(unitText: string): UnitCommand {
  const lines = unitText.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const exec = lines.filter((l) => l.startsWith('ExecStart='));
  if (exec.length !== 1) throw new Error(`expected one ExecStart= line, found ${exec.length}`);
  const words = exec[0]!.slice('ExecStart='.length).split(/\s+/);
  const at = words.findIndex((w) => w.endsWith('.cjs'));
  if (at < 1) throw new Error(`ExecStart= runs no .cjs bundle: ${exec[0]!}`);
  const env: Record<string, string> = {};
  for (const l of lines.filter((x) => x.startsWith('Environment='))) {
    for (const kv of l.slice('Environment='.length).split(/\s+/)) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`Environment= entry without a name: ${l}`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  return { node: words[0]!, flags: words.slice(1, at), bundle: words[at]!, args: words.slice(at + 1), env };
}

/** A 784-256-128-10 MLP with fixed pseudo-random float32 weights in [-0.05, 0.05), as JSON text
 * the way `edgenn train --out` writes it (shortest float32 decimals): 3.1 MB. */
export function mlpJsonModel(): string {
  const dims = [784, 256, 128, 10];
  let s = 12345;
  const r = (): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return Math.fround((s / 4294967296 - 0.5) * 0.1); };
  const layers: JsonModelSpec['layers'][number][] = [];
  for (let l = 0; l < 3; l++) {
    const I = dims[l]!, O = dims[l + 1]!;
    layers.push({ type: 'dense', out: O, weight: Array.from({ length: I * O }, r), biasData: Array.from({ length: O }, r) });
    if (l < 2) layers.push({ type: 'relu' });
  }
  return stringifyJsonModel({ format: 'edgenn-model', version: 1, input: { name: 'input', dims: [784] }, seed: 0, layers });
}

/** How to start a node: `cmd args... <node flags> <bundle> ...` with `env`. The spawned pid must
 * become node itself (exec), since its /proc status is what is read. */
export interface NodeCommand {
  readonly label: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

export interface AgentRssOptions {
  readonly node: NodeCommand;
  /** dist/device/edgenn-agent.cjs */
  readonly bundle: string;
  readonly unit: UnitCommand;
  /** a 784-input, 10-output model file */
  readonly model: string;
  /** a fresh folder for the config and the agent's state */
  readonly workDir: string;
  /** default 32, as device.example.json */
  readonly maxBatch?: number;
  /** an MQTT broker URL; default offline */
  readonly broker?: string;
  readonly warmup?: number;
  readonly idleMs?: number;
  readonly inferences?: number;
  /** a `fineTune` section for the config: the agent then also takes `fineTuneSamples` labelled
   * samples over HTTP and runs one fine-tune (POST /fine-tune) before the idle period, so the
   * figures include its training arena and sample buffer */
  readonly fineTune?: Readonly<Record<string, unknown>>;
  /** default 256 */
  readonly fineTuneSamples?: number;
}

export interface AgentRssFigures {
  readonly label: string;
  readonly servingBytes: number;
  readonly warmBytes: number;
  readonly afterBytes: number;
  /** during the `inferences` requests */
  readonly peakBytes: number;
  /** VmHWM: the largest RSS of the process's life (model loading included) */
  readonly hwmBytes: number;
  readonly requestsPerS: number;
}

function procStatus(pid: number): { rss: number; hwm: number; cmdline: string } {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => {
    const m = new RegExp(`${k}:\\s+(\\d+) kB`).exec(st);
    if (m === null) throw new Error(`no ${k} for pid ${pid}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), cmdline: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') };
}

/** Starts the agent as the unit does, runs the protocol of the header, stops it (SIGTERM, exit 0). */
export async function measureAgentRss(o: AgentRssOptions): Promise<AgentRssFigures> {
  const warmup = o.warmup ?? 32, idleMs = o.idleMs ?? 10_000, N = o.inferences ?? 2000;
  const state = path.join(o.workDir, 'state');
  fs.mkdirSync(state, { recursive: true });
  const config = path.join(o.workDir, 'device.json');
  fs.writeFileSync(config, JSON.stringify({
    device: `rss-${o.node.label}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64), fleet: 'rss', stateDir: state,
    model: { store: path.join(state, 'models'), path: o.model, id: 'mlp', version: '1' },
    signature: { input: [784], output: [10] }, maxBatch: o.maxBatch ?? 32,
    sources: [{ kind: 'http', host: '127.0.0.1', port: 0 }],
    ...(o.broker !== undefined ? { broker: { url: o.broker } } : {}),
    ...(o.fineTune !== undefined ? { fineTune: o.fineTune } : {}),
  }));
  const child = spawn(o.node.cmd, [...o.node.args, ...o.unit.flags, o.bundle, 'agent', '--config', config],
    { env: { ...o.node.env, ...o.unit.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let failed = false;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /serving .* on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
        if (m !== null) { clearInterval(timer); clearTimeout(limit); resolve(Number(m[1])); }
      }, 20);
      const limit = setTimeout(() => { clearInterval(timer); reject(new Error(`${o.node.label}: agent did not serve within 120 s:\n${err}`)); }, 120_000);
      void exited.then((code) => { clearInterval(timer); clearTimeout(limit); reject(new Error(`${o.node.label}: agent exited ${code}:\n${err}`)); });
    });
    const pid = child.pid!;
    const serving = procStatus(pid);
    if (!/\/node\b|\bnode /.test(serving.cmdline)) throw new Error(`${o.node.label}: pid ${pid} is not node: ${serving.cmdline}`);
    const body = JSON.stringify({ x: Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255) });
    const post = (route: string, text: string): Promise<string> => new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: route, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${o.node.label}: HTTP ${res.statusCode}: ${text}`))));
      });
      req.once('error', reject);
      req.end(text);
    });
    const infer = (): Promise<string> => post('/infer', body);
    const first = JSON.parse(await infer()) as { y?: unknown };
    if (!Array.isArray(first.y) || first.y.length !== 10) throw new Error(`${o.node.label}: unexpected answer ${JSON.stringify(first).slice(0, 200)}`);
    for (let i = 1; i < warmup; i++) await infer();
    if (o.fineTune !== undefined) {
      // labelled samples (10 classes, a pattern per class) and one fine-tune run
      const n = o.fineTuneSamples ?? 256;
      for (let s = 0; s < n; s++) {
        const label = s % 10;
        await post('/sample', JSON.stringify({ x: Array.from({ length: 784 }, (_, i) => (((i + 7 * label) * 37) % 255) / 255), label }));
      }
      const r = JSON.parse(await post('/fine-tune', '{}')) as { status?: unknown };
      if (typeof r.status !== 'string' || r.status === 'skipped') throw new Error(`${o.node.label}: fine-tune did not run: ${JSON.stringify(r)}`);
    }
    await new Promise((r) => setTimeout(r, idleMs));
    // with a broker, the figures count only if the agent really reports to it
    if (o.broker !== undefined && !/connected with MQTT/.test(err)) {
      throw new Error(`${o.node.label}: the agent did not connect to ${o.broker} within ${idleMs} ms:\n${err}`);
    }
    const warm = procStatus(pid).rss;
    let peak = 0;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      await infer();
      if (i % 100 === 0) peak = Math.max(peak, procStatus(pid).rss);
    }
    const seconds = (performance.now() - t0) / 1000;
    const end = procStatus(pid);
    return {
      label: o.node.label, servingBytes: serving.rss, warmBytes: warm, afterBytes: end.rss, peakBytes: Math.max(peak, end.rss),
      hwmBytes: end.hwm, requestsPerS: Math.round(N / seconds),
    };
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    agent.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0 && !failed) throw new Error(`${o.node.label}: agent exited ${code} on SIGTERM:\n${err}`);
  }
}

/** One line of figures, MB with one decimal. */
export function formatAgentRss(f: AgentRssFigures, inferences = 2000): string {
  const mb = (b: number): string => (b / (1024 * 1024)).toFixed(1);
  return `${f.label}: agent RSS ${mb(f.servingBytes)} MB when serving starts, ${mb(f.warmBytes)} MB after warm-up, ` +
    `${mb(f.afterBytes)} MB after ${inferences} inferences (peak ${mb(f.peakBytes)} MB during them; VmHWM ${mb(f.hwmBytes)} MB; ` +
    `${f.requestsPerS} requests/s)`;
}
