// Start-up and footprint of the device bundle, for the figures and a later `npm run bench`
// hook:  node build/tools/pi/measure.js [--bundle dist/device/edgenn-agent.cjs] [--runs N] [--no-emulated]
// prints one JSON object:
//   bundle:   bytes and gzip bytes of the bundle;
//   startup:  process start → first inference result on stdout (`run` of a 1-row CSV), median of
//             N runs, for the 4-8-3 test model and the 784-256-128-10 model, native and under the
//             emulated arm64 Node 18 (tools/pi/pi-node.sh, root in .cache/pi-arm64), and the ratio;
//   agentRss: the agent (offline, one loopback HTTP source, 784-256-128-10 model, the systemd
//             unit's node flags) natively: VmRSS at idle (after start-up settles) and its peak
//             while serving a burst of /infer requests.
// NOTE: emulated RSS is not reported: qemu-user's own memory and translation cache dominate it.
// It is not a benchmark harness (no warm-up statistics, no comparison with other runtimes).

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const NODE_FLAGS = ['--enable-source-maps', '--disallow-code-generation-from-strings'];

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

function vmRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m !== null ? Number(m[1]) * 1024 : NaN;
}

function post(port: number, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/infer', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Starts the agent, waits for its "serving ... on http://127.0.0.1:PORT" line. */
function startAgent(bundle: string, config: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, bundle, 'agent', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`agent did not start in 30 s: ${err}`)); }, 30_000);
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /serving .* on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m !== null) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`agent exited ${code}: ${err}`)); });
  });
}

async function agentRss(bundle: string, work: string, modelFile: string): Promise<Record<string, number>> {
  const cfg = {
    device: 'measure', fleet: 'bench', stateDir: path.join(work, 'state'),
    model: { store: path.join(work, 'state', 'models'), path: modelFile },
    signature: { input: [784], output: [10] }, maxBatch: 1,
    sources: [{ kind: 'http', host: '127.0.0.1', port: 0 }],
  };
  fs.mkdirSync(cfg.stateDir, { recursive: true });
  const file = path.join(work, 'device.json');
  fs.writeFileSync(file, JSON.stringify(cfg));
  const { child, port } = await startAgent(bundle, file);
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const idle = vmRssBytes(child.pid!);
    const x = JSON.stringify({ x: Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255) });
    let peak = idle;
    const t0 = performance.now();
    const N = 2000;
    for (let i = 0; i < N; i++) {
      await post(port, x);
      if (i % 100 === 0) peak = Math.max(peak, vmRssBytes(child.pid!));
    }
    const ms = performance.now() - t0;
    peak = Math.max(peak, vmRssBytes(child.pid!));
    return { idleRssBytes: idle, loadPeakRssBytes: peak, loadRequests: N, loadRequestsPerS: Math.round(N / (ms / 1000)) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<void> {
  const root = repoRoot();
  const argv = process.argv.slice(2);
  const at = (k: string): string | undefined => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
  const bundle = path.resolve(at('--bundle') ?? path.join(root, 'dist/device/edgenn-agent.cjs'));
  const runs = Number(at('--runs') ?? '5');
  const emulated = !argv.includes('--no-emulated');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} not found: run npm run bundle first`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-measure-'));
  try {
    const small = path.join(root, 'test/tools/bundle/fixtures/model.json');
    const smallX = path.join(work, 'small.csv');
    fs.writeFileSync(smallX, 'x0,x1,x2,x3\n0.5,-0.25,1,0.125\n');
    const big = path.join(work, 'mnist-mlp.json');
    fs.writeFileSync(big, JSON.stringify({
      format: 'edgenn-model', version: 1, input: { name: 'input', dims: [784] }, seed: 0,
      layers: [{ type: 'dense', out: 256 }, { type: 'relu' }, { type: 'dense', out: 128 }, { type: 'relu' }, { type: 'dense', out: 10 }],
    }));
    const bigX = path.join(work, 'big.csv');
    fs.writeFileSync(bigX, `${Array.from({ length: 784 }, (_, i) => `p${i}`).join(',')}\n${Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255).join(',')}\n`);

    const startup: Record<string, Record<string, number>> = {};
    for (const [name, model, x] of [['4-8-3', small, smallX], ['784-256-128-10', big, bigX]] as const) {
      const args = [...NODE_FLAGS, bundle, 'run', model, x];
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
    const bytes = fs.readFileSync(bundle);
    const out = {
      node: process.version, arch: process.arch, cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10),
      bundle: { file: path.relative(root, bundle), bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length },
      startup,
      agentRss: await agentRss(bundle, work, big),
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
