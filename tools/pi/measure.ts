// Start-up and footprint of the device package: `npm run bench -- --device` (tools/bench/main.ts,
// which bundles first) and `npm run measure:pi` (this file's CLI, on an existing dist/):
//   node build/tools/pi/measure.js [--dist dist] [--runs N] [--no-emulated] [--no-node18]
//                                  [--broker URL] [--json]
// Measures:
//   bundle:   bytes and gzip bytes of the agent bundle and of the CLI bundle;
//   startup:  process start → first inference result on stdout (`run` of a 1-row CSV with the CLI
//             bundle, dist/device/edgenn.cjs, under the unit's node flags), median of N runs, for
//             the 4-8-3 test model and the 784-256-128-10 model, native and under the emulated
//             arm64 Node 18 (tools/pi/pi-node.sh), and the ratio;
//   agentRss: the agent bundle started as the systemd unit starts it (its node flags and
//             Environment=), serving the 784-256-128-10 model with trained weights (JSON), offline
//             and reporting to a broker (--broker URL, else the embedded broker started here), and
//             with a broker after one Adam fine-tune (training arena and sample buffer included):
//             VmRSS when serving starts / at idle after warm-up / under load (right after 2 000
//             inferences) / peak / VmHWM (tools/pi/agent-rss.ts), on this node and on Debian
//             bookworm's Node 18 (x86-64 build, tools/pi/pi-node.sh ARCH=amd64; needs root).
// Roots of the Debian nodes: $EDGENN_PI_CACHE/pi-<arch>, else .cache/pi-<arch> (as the tests).
// NOTE: emulated RSS is not reported: qemu-user's own memory and translation cache dominate it.
// It is not a benchmark harness (no warm-up statistics, no comparison with other runtimes): the
// figures are medians of a few runs; RSS is what the agent holds, not a timing.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startEmbeddedBroker } from '../../devices/telemetry/embedded-broker.js';
import { findRepoRoot } from '../repo-root.js';
import { formatAgentRss, measureAgentRss, mlpJsonModel, unitCommand, type AgentRssFigures, type NodeCommand } from './agent-rss.js';

/** The cached root of Debian's Node 18 for `arch` (the same place the tests use). */
export function piRootDir(root: string, arch: 'arm64' | 'armhf' | 'amd64'): string {
  return path.join(process.env.EDGENN_PI_CACHE ?? path.join(root, '.cache'), `pi-${arch}`);
}

/** ms from spawn to the first stdout bytes; rejects on a non-zero exit. */
function timeToFirstOutput(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = NaN;
    let err = '';
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.on('data', () => { if (Number.isNaN(first)) first = performance.now() - t0; });
    c.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    c.once('error', reject);
    c.once('close', (code) => (code === 0 && !Number.isNaN(first) ? resolve(first) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The fine-tuning leg: on-device training enabled as a user would (Adam, batch 32, a 256-sample
 * buffer), 256 labelled samples posted and one fine-tune run before the idle period. */
const FINE_TUNE_LEG = {
  loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 0.001 },
  bufferSize: 256, minSamples: 30, epochs: 1, batchSize: 32,
} as const;

export interface DeviceMeasureOptions {
  /** the folder `npm run bundle` wrote (holds device/) */
  readonly dist: string;
  /** start-up runs per case (emulated: at most 3); default 5 */
  readonly runs?: number;
  /** emulated arm64 start-up; default true */
  readonly emulated?: boolean;
  /** Debian's Node 18 agent RSS; default true */
  readonly node18?: boolean;
  /** broker URL for the "with a broker" legs; default: an embedded broker started here */
  readonly broker?: string;
  readonly log?: (line: string) => void;
}

export interface SizeFigures { readonly file: string; readonly bytes: number; readonly gzipBytes: number }
export interface StartupFigures { readonly nativeMs: number; readonly emulatedArm64Ms?: number; readonly ratio?: number }

export interface DeviceReport {
  readonly node: string;
  readonly arch: string;
  readonly cpus: number;
  readonly loadavg: readonly number[];
  readonly bundle: { readonly agent: SizeFigures; readonly cli: SizeFigures };
  readonly startup: Readonly<Record<string, StartupFigures>>;
  readonly agentRss: {
    readonly unit: { readonly flags: readonly string[]; readonly env: Readonly<Record<string, string>> };
    readonly model: string;
    readonly broker: string;
    readonly results: readonly AgentRssFigures[];
  };
}

export async function measureDevice(o: DeviceMeasureOptions): Promise<DeviceReport> {
  const root = findRepoRoot();
  const log = o.log ?? ((): void => undefined);
  const agentBundle = path.join(o.dist, 'device/edgenn-agent.cjs');
  const cliBundle = path.join(o.dist, 'device/edgenn.cjs');
  const runs = o.runs ?? 5;
  for (const f of [agentBundle, cliBundle]) if (!fs.existsSync(f)) throw new Error(`${f} not found: run npm run bundle first`);
  const unit = unitCommand(fs.readFileSync(path.join(o.dist, 'device/edgenn-agent.service'), 'utf8'));

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-measure-'));
  const embedded = o.broker === undefined ? await startEmbeddedBroker({ port: 0 }) : null;
  const broker = o.broker ?? embedded!.url;
  try {
    const small = path.join(root, 'test/tools/bundle/fixtures/model.json');
    const smallX = path.join(work, 'small.csv');
    fs.writeFileSync(smallX, 'x0,x1,x2,x3\n0.5,-0.25,1,0.125\n');
    const big = path.join(work, 'mnist-mlp.json');
    fs.writeFileSync(big, mlpJsonModel());
    const bigX = path.join(work, 'big.csv');
    fs.writeFileSync(bigX, `${Array.from({ length: 784 }, (_, i) => `p${i}`).join(',')}\n${Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255).join(',')}\n`);

    // `run` has no unit: the CLI is started by hand, with the unit's node flags
    const startup: Record<string, StartupFigures> = {};
    for (const [name, model, x] of [['4-8-3', small, smallX], ['784-256-128-10', big, bigX]] as const) {
      const args = [...unit.flags, cliBundle, 'run', model, x];
      const nat: number[] = [];
      for (let i = 0; i < runs; i++) nat.push(await timeToFirstOutput(process.execPath, args, process.env));
      const nativeMs = Math.round(median(nat));
      log(`start-up ${name}: native ${nativeMs} ms`);
      if (o.emulated ?? true) {
        const emu: number[] = [];
        const env = { ...process.env, ARCH: 'arm64' };
        for (let i = 0; i < Math.max(1, Math.min(runs, 3)); i++) {
          emu.push(await timeToFirstOutput('bash', [path.join(root, 'tools/pi/pi-node.sh'), piRootDir(root, 'arm64'), ...args], env));
        }
        const emulatedArm64Ms = Math.round(median(emu));
        log(`start-up ${name}: emulated arm64 ${emulatedArm64Ms} ms`);
        startup[name] = { nativeMs, emulatedArm64Ms, ratio: Math.round((emulatedArm64Ms / nativeMs) * 10) / 10 };
      } else {
        startup[name] = { nativeMs };
      }
    }
    const size = (f: string): SizeFigures => {
      const b = fs.readFileSync(f);
      return { file: path.relative(o.dist, f), bytes: b.length, gzipBytes: gzipSync(b, { level: 9 }).length };
    };
    const nodes: NodeCommand[] = [{ label: `this node ${process.version} ${process.arch}`, cmd: process.execPath, args: [], env: process.env }];
    if (o.node18 ?? true) {
      nodes.push({ label: 'Debian bookworm nodejs 18 (x86-64 build)', cmd: 'bash',
        args: [path.join(root, 'tools/pi/pi-node.sh'), piRootDir(root, 'amd64')], env: { ...process.env, ARCH: 'amd64' } });
    }
    const results: AgentRssFigures[] = [];
    const legs = [
      { what: 'offline', url: undefined, fineTune: undefined },
      { what: 'with a broker', url: broker, fineTune: undefined },
      { what: 'with a broker, after one Adam fine-tune', url: broker, fineTune: FINE_TUNE_LEG },
    ] as const;
    for (const node of nodes) {
      for (const leg of legs) {
        const label = `${node.label}, ${leg.what}`;
        const dir = fs.mkdtempSync(path.join(work, 'agent-'));
        const f = await measureAgentRss({
          node: { ...node, label }, bundle: agentBundle, unit, model: big, workDir: dir,
          ...(leg.url !== undefined ? { broker: leg.url } : {}), ...(leg.fineTune !== undefined ? { fineTune: leg.fineTune } : {}),
        });
        log(formatAgentRss(f));
        results.push(f);
      }
    }
    return {
      node: process.version, arch: process.arch, cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10),
      bundle: { agent: size(agentBundle), cli: size(cliBundle) },
      startup,
      agentRss: {
        unit: { flags: unit.flags, env: unit.env }, model: '784-256-128-10, trained weights, JSON',
        broker: o.broker ?? 'embedded (in this process)', results,
      },
    };
  } finally {
    await embedded?.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The report as a few tables (MB with one decimal). */
export function formatDeviceReport(r: DeviceReport): string {
  const mb = (b: number): string => (b / (1024 * 1024)).toFixed(1);
  const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  const lines = [
    `device package (node ${r.node} ${r.arch}, ${r.cpus} cpus, load ${r.loadavg.join(' ')})`,
    '',
    'bundle                             minified         gzip',
    `agent  ${r.bundle.agent.file.padEnd(26)} ${kib(r.bundle.agent.bytes).padStart(11)} ${kib(r.bundle.agent.gzipBytes).padStart(12)}`,
    `cli    ${r.bundle.cli.file.padEnd(26)} ${kib(r.bundle.cli.bytes).padStart(11)} ${kib(r.bundle.cli.gzipBytes).padStart(12)}`,
    '',
    'start-up to first inference (median)   native   emulated arm64 Node 18   ratio',
  ];
  for (const [name, s] of Object.entries(r.startup)) {
    lines.push(`${name.padEnd(38)} ${`${s.nativeMs} ms`.padStart(7)}   ${(s.emulatedArm64Ms !== undefined ? `${s.emulatedArm64Ms} ms` : 'n/a').padStart(22)}   ${s.ratio !== undefined ? `x${s.ratio}` : ''}`);
  }
  lines.push('', `${`agent RSS, ${r.agentRss.model}, MB (budget 64)`.padEnd(84)} serving  idle  under load  peak  VmHWM`);
  for (const f of r.agentRss.results) {
    lines.push(`${f.label.padEnd(84)} ${mb(f.servingBytes).padStart(5)} ${mb(f.warmBytes).padStart(5)} ${mb(f.afterBytes).padStart(11)} ${mb(f.peakBytes).padStart(5)} ${mb(f.hwmBytes).padStart(6)}`);
  }
  lines.push(`broker: ${r.agentRss.broker}; idle = after warm-up and 10 s idle, under load = right after 2 000 inferences`);
  return lines.join('\n');
}

const HELP = `measure:pi: start-up and footprint of the device package (built by npm run bundle)
usage: node build/tools/pi/measure.js [--dist DIR] [--runs N] [--no-emulated] [--no-node18] [--broker URL] [--json]
  --dist DIR      the folder npm run bundle wrote (default dist)
  --runs N        start-up runs per case (default 5; emulated: at most 3)
  --no-emulated   skip the emulated arm64 start-up (needs qemu-user-static and the Debian root)
  --no-node18     skip Debian's Node 18 agent RSS (needs root for tools/pi/pi-node.sh ARCH=amd64)
  --broker URL    broker for the "with a broker" legs (default: an embedded broker started here)
  --json          print the report as JSON instead of tables
Progress goes to stderr.`;

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(`${HELP}\n`); return 0; }
  const known = new Set(['--dist', '--runs', '--no-emulated', '--no-node18', '--broker', '--json']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!known.has(a)) { process.stderr.write(`measure: unknown option ${a}\n${HELP}\n`); return 2; }
    if (a === '--dist' || a === '--runs' || a === '--broker') {
      if (argv[i + 1] === undefined) { process.stderr.write(`measure: ${a} needs a value\n`); return 2; }
      i++;
    }
  }
  const at = (k: string): string | undefined => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
  const runs = Number(at('--runs') ?? '5');
  if (!Number.isInteger(runs) || runs < 1) { process.stderr.write(`measure: --runs must be a positive integer, got ${at('--runs')}\n`); return 2; }
  const broker = at('--broker');
  const r = await measureDevice({
    dist: path.resolve(at('--dist') ?? path.join(findRepoRoot(), 'dist')), runs,
    emulated: !argv.includes('--no-emulated'), node18: !argv.includes('--no-node18'),
    ...(broker !== undefined ? { broker } : {}),
    log: (l) => process.stderr.write(`measure: ${l}\n`),
  });
  process.stdout.write(argv.includes('--json') ? `${JSON.stringify(r, null, 2)}\n` : `${formatDeviceReport(r)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`measure: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
