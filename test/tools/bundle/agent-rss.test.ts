// The agent's memory: the device bundle (dist/device/edgenn-agent.cjs) started exactly as the
// systemd unit starts it (ExecStart's node flags and the Environment= variables, read from the
// built unit file), serving a 784-256-128-10 model over a loopback HTTP source, its resident set
// size (VmRSS in /proc/<pid>/status) read after warm-up (32 inferences, then 10 s idle: V8's
// memory reducer shrinks the heap ~8 s after start-up's last full GC) and right after 2 000
// inferences on one keep-alive connection (tools/pi/agent-rss.ts, the same protocol as
// `npm run measure:pi`). The budget: under 64 MB (a Pi Zero 2 W has 512 MB).
//
// Four agents, at the same time: two nodes, each offline and reporting to a real broker
// (mosquitto on loopback, started here; the agent's telemetry then evaluates mqtt.js and holds a
// connection):
//   - this machine's node (x86-64, Node 20 here). An official Node build on a Pi's arm64 is the
//     same V8 and the same code.
//   - Debian bookworm's own nodejs 18.20 (what `apt install nodejs` gives on Raspberry Pi OS),
//     its x86-64 build run natively from the packages (tools/pi/pi-node.sh ARCH=amd64, root in
//     $EDGENN_PI_CACHE or .cache/pi-amd64, ~30 MB downloaded once; needs root for a private mount
//     namespace, as CI has). Emulated arm64 would be the board's own binary, but qemu-user's
//     translation cache and its own heap are counted in the process's RSS, so the figure would
//     say nothing about a board; the x86-64 build of the same package has the same V8, the same
//     libnode and the same pointer size as arm64. Bare, this node already takes 49.8 MB (36.6 MB
//     of it the pages of libnode, ICU and OpenSSL it maps), 10 MB more than Node 20.
// The model is the worst case the agent serves as JSON: trained weights as `edgenn train --out`
// writes them (3.1 MB of text), not a seed-only file. The config is the serving agent of
// device.example.json (maxBatch 32, no fineTune: fine-tuning adds its arena, 3.96 MB for Adam at
// batch 32 once a run has touched it, and its sample buffer, bufferSize x 784 x 4 bytes once
// filled; docs/raspberry-pi.md "Memory").
// Tolerance: none beyond the budget. Measured with these files (docs/raspberry-pi.md "Memory"),
// Node 18 after warm-up / after the burst: offline 59.0-59.6 / 61.5-63.9 MB, with a broker
// 60.3-60.8 / 62.6-63.2 MB; Node 20 about 5 MB less. A breach is a change in what the agent holds.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles, type BundleResult } from '../../../tools/bundle.js';
import {
  formatAgentRss, measureAgentRss, mlpJsonModel, unitCommand, type AgentRssFigures, type NodeCommand, type UnitCommand,
} from '../../../tools/pi/agent-rss.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { expectOk, piNode, piNodeCommand } from './support.js';

const MB = 1024 * 1024;
/** The budget (a Pi Zero 2 W has 512 MB). */
const BUDGET_BYTES = 64 * MB;
const INFERENCES = 2000;

let work: string;
let mosq: Mosquitto;
let dist: BundleResult;
let unit: UnitCommand;
const results = new Map<string, Promise<AgentRssFigures>>();

/** On-device fine-tuning as a user would enable it: Adam, batch 32, a 256-sample buffer. */
const FINE_TUNE = {
  loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 0.001 },
  bufferSize: 256, minSamples: 30, epochs: 1, batchSize: 32,
};

function start(node: NodeCommand, broker: string | undefined, fineTune = false): void {
  const label = `${node.label}${broker !== undefined ? ' with a broker' : ' offline'}${fineTune ? ' after a fine-tune' : ''}`;
  const dir = path.join(work, label.replace(/\W+/g, '-'));
  fs.mkdirSync(dir, { recursive: true });
  const p = measureAgentRss({
    node: { ...node, label }, bundle: dist.agent, unit, model: path.join(work, 'mlp.json'), workDir: dir, inferences: INFERENCES,
    ...(broker !== undefined ? { broker } : {}), ...(fineTune ? { fineTune: FINE_TUNE } : {}),
  });
  p.catch(() => undefined); // reported by the test that awaits it
  results.set(label, p);
}

const mb = (b: number): string => (b / MB).toFixed(1);

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-rss-'));
  dist = await buildBundles({ outDir: path.join(work, 'dist') });
  unit = unitCommand(fs.readFileSync(path.join(dist.deviceDir, 'edgenn-agent.service'), 'utf8'));
  fs.writeFileSync(path.join(work, 'mlp.json'), mlpJsonModel());
  // Debian's Node 18 root first (a no-op once cached), so that its download is not in a measurement
  expectOk("setting up Debian bookworm's amd64 Node 18 (tools/pi/pi-node.sh)", await piNode('amd64', [], 170_000));
  mosq = await startMosquitto();
  // every leg at once: each reads its own process
  for (const broker of [undefined, mosq.url]) {
    start({ label: 'this-node', cmd: process.execPath, args: [], env: process.env }, broker);
    start({ label: 'debian-node18', ...piNodeCommand('amd64') }, broker);
  }
  start({ label: 'this-node', cmd: process.execPath, args: [], env: process.env }, mosq.url, true);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([...results.values()]);
  await mosq?.dispose();
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('the agent bundle under the systemd unit\'s flags, 784-256-128-10 model', () => {
  it('runs as the unit says: the agent bundle with node flags and Environment= read from the unit', () => {
    expect(unit.bundle).toBe('/opt/edgenn/edgenn-agent.cjs');
    expect(unit.args.slice(0, 2)).toEqual(['agent', '--config']);
    // the flags that hold the young generation, the loading garbage and the allocator's free memory down
    expect(unit.flags).toContain('--max-semi-space-size=1');
    expect(unit.flags).toContain('--expose-gc');
    expect(unit.flags).toContain('--no-concurrent-recompilation');
    expect(unit.env.GLIBC_TUNABLES).toMatch(/glibc\.malloc\.trim_threshold=\d+/);
  });

  const legs = [
    [`this machine's node (${process.version})`, 'this-node'],
    ["Debian's Node 18 (x86-64 build)", 'debian-node18'],
  ] as const;
  // The training compile exists only while a fine-tune runs (devices/agent/fine-tuner.ts): after
  // one run the agent holds its sample buffer and little else beyond the serving agent. Measured
  // on Node 20, fine-tuning leg minus the "with a broker" leg, idle / under load: +2.9-3.0 /
  // +1.0 MB now; +7.7 / +5.8 MB when the training arena stayed between runs and the run's garbage
  // waited for V8. Bound: +4.5 MB, between the two. Asserted on this node only: on Debian's Node
  // 18 the same agent measures 62.9-63.7 MB (docs/raspberry-pi.md "Memory", npm run bench --
  // --device), too close to the budget to hold a test to.
  it(`stays under 64 MB on this machine's node (${process.version}) with a broker after a fine-tune (Adam, batch 32, 256 samples), within 4.5 MB of serving alone`, async () => {
    const f = await results.get('this-node with a broker after a fine-tune')!;
    const base = await results.get('this-node with a broker')!;
    console.log(formatAgentRss(f, INFERENCES));
    expect(f.warmBytes, `after warm-up: ${mb(f.warmBytes)} MB`).toBeLessThan(BUDGET_BYTES);
    expect(f.afterBytes, `after ${INFERENCES} inferences: ${mb(f.afterBytes)} MB`).toBeLessThan(BUDGET_BYTES);
    expect(f.warmBytes - base.warmBytes, `idle: ${mb(f.warmBytes)} vs ${mb(base.warmBytes)} MB serving alone`).toBeLessThan(4.5 * MB);
    expect(f.afterBytes - base.afterBytes, `under load: ${mb(f.afterBytes)} vs ${mb(base.afterBytes)} MB serving alone`).toBeLessThan(4.5 * MB);
  }, 120_000);

  for (const [what, node] of legs) {
    for (const mode of ['offline', 'with a broker'] as const) {
      it(`stays under 64 MB on ${what}, ${mode}, after warm-up and after ${INFERENCES} inferences`, async () => {
        const f = await results.get(`${node} ${mode}`)!;
        console.log(formatAgentRss(f, INFERENCES));
        expect(f.warmBytes, `after warm-up: ${mb(f.warmBytes)} MB`).toBeLessThan(BUDGET_BYTES);
        expect(f.afterBytes, `after ${INFERENCES} inferences: ${mb(f.afterBytes)} MB`).toBeLessThan(BUDGET_BYTES);
      }, 120_000);
    }
  }
});
