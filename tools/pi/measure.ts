// Start-up and footprint of the device package, for the figures and a later `npm run bench`
// hook:  node build/tools/pi/measure.js [--dist dist] [--runs N] [--no-emulated] [--no-node18] [--broker URL]
// prints one JSON object:
//   bundle:   bytes and gzip bytes of the agent bundle and of the CLI bundle;
//   startup:  process start → first inference result on stdout (`run` of a 1-row CSV with the CLI
//             bundle, dist/device/edgenn.cjs), median of N runs, for the 4-8-3 test model and the
//             784-256-128-10 model, native and under the emulated arm64 Node 18
//             (tools/pi/pi-node.sh, root in .cache/pi-arm64), and the ratio;
//   agentRss: the agent bundle started as the systemd unit starts it (its node flags and
//             Environment=), serving the 784-256-128-10 model with trained weights (JSON), offline
//             or with --broker: VmRSS serving / after warm-up / after 2 000 inferences / peaks
//             (tools/pi/agent-rss.ts), on this node and on Debian bookworm's Node 18 (x86-64
//             build, tools/pi/pi-node.sh ARCH=amd64, root in .cache/pi-amd64; needs root).
// NOTE: emulated RSS is not reported: qemu-user's own memory and translation cache dominate it.
// It is not a benchmark harness (no warm-up statistics, no comparison with other runtimes).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { formatAgentRss, measureAgentRss, mlpJsonModel, unitCommand, type AgentRssFigures, type NodeCommand } from './agent-rss.js';

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      if ((JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'edgenn') return dir;
    } catch { /* not here */ }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('edgenn package.json not found');
    dir = up;
  }
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

async function main(): Promise<void> {
  const root = repoRoot();
  const argv = process.argv.slice(2);
  const at = (k: string): string | undefined => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
  const dist = path.resolve(at('--dist') ?? path.join(root, 'dist'));
  const agentBundle = path.join(dist, 'device/edgenn-agent.cjs');
  const cliBundle = path.join(dist, 'device/edgenn.cjs');
  const runs = Number(at('--runs') ?? '5');
  const emulated = !argv.includes('--no-emulated');
  const node18 = !argv.includes('--no-node18');
  const broker = at('--broker');
  for (const f of [agentBundle, cliBundle]) if (!fs.existsSync(f)) throw new Error(`${f} not found: run npm run bundle first`);
  const unit = unitCommand(fs.readFileSync(path.join(dist, 'device/edgenn-agent.service'), 'utf8'));
  // `run` has no unit: the CLI is started by hand, with the unit's node flags
  const NODE_FLAGS = unit.flags;

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-measure-'));
  try {
    const small = path.join(root, 'test/tools/bundle/fixtures/model.json');
    const smallX = path.join(work, 'small.csv');
    fs.writeFileSync(smallX, 'x0,x1,x2,x3\n0.5,-0.25,1,0.125\n');
    const big = path.join(work, 'mnist-mlp.json');
    fs.writeFileSync(big, mlpJsonModel());
    const bigX = path.join(work, 'big.csv');
    fs.writeFileSync(bigX, `${Array.from({ length: 784 }, (_, i) => `p${i}`).join(',')}\n${Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255).join(',')}\n`);

    const startup: Record<string, Record<string, number>> = {};
    for (const [name, model, x] of [['4-8-3', small, smallX], ['784-256-128-10', big, bigX]] as const) {
      const args = [...NODE_FLAGS, cliBundle, 'run', model, x];
      const nat: number[] = [];
      for (let i = 0; i < runs; i++) nat.push(await timeToFirstOutput(process.execPath, args, process.env));
      const entry: Record<string, number> = { nativeMs: Math.round(median(nat)) };
      if (emulated) {
        const emu: number[] = [];
        const env = { ...process.env, ARCH: 'arm64' };
        for (let i = 0; i < Math.max(1, Math.min(runs, 3)); i++) {
          emu.push(await timeToFirstOutput('bash', [path.join(root, 'tools/pi/pi-node.sh'), path.join(root, '.cache/pi-arm64'), ...args], env));
        }
        entry.emulatedArm64Ms = Math.round(median(emu));
        entry.ratio = Math.round((entry.emulatedArm64Ms / entry.nativeMs) * 10) / 10;
      }
      startup[name] = entry;
    }
    const size = (f: string): Record<string, string | number> => {
      const b = fs.readFileSync(f);
      return { file: path.relative(root, f), bytes: b.length, gzipBytes: gzipSync(b, { level: 9 }).length };
    };
    const nodes: NodeCommand[] = [{ label: `this node ${process.version} ${process.arch}`, cmd: process.execPath, args: [], env: process.env }];
    if (node18) {
      nodes.push({ label: 'Debian bookworm nodejs 18 (x86-64 build)', cmd: 'bash',
        args: [path.join(root, 'tools/pi/pi-node.sh'), path.join(root, '.cache/pi-amd64')], env: { ...process.env, ARCH: 'amd64' } });
    }
    const agentRss: AgentRssFigures[] = [];
    for (const node of nodes) {
      const dir = fs.mkdtempSync(path.join(work, 'agent-'));
      const f = await measureAgentRss({ node, bundle: agentBundle, unit, model: big, workDir: dir, ...(broker !== undefined ? { broker } : {}) });
      process.stderr.write(`${formatAgentRss(f)}\n`);
      agentRss.push(f);
    }
    const out = {
      node: process.version, arch: process.arch, cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10),
      bundle: { agent: size(agentBundle), cli: size(cliBundle) },
      startup,
      agentRss: { unit: { flags: unit.flags, env: unit.env }, model: '784-256-128-10, trained weights, JSON', broker: broker ?? null, results: agentRss },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`measure: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
