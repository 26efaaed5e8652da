// The agent's memory: the device bundle (dist/device/edgenn-agent.cjs) started exactly as the
// systemd unit starts it (ExecStart's node flags and the Environment= variables, read from the
// built unit file), serving a 784-256-128-10 model offline over a loopback HTTP source, its
// resident set size (VmRSS in /proc/<pid>/status) read after warm-up (32 inferences, then 10 s
// idle: V8's memory reducer shrinks the heap ~8 s after start-up's last full GC) and right after
// 2 000 inferences on one keep-alive connection (tools/pi/agent-rss.ts, the same protocol as
// `npm run measure:pi`).
//
// Two nodes, at the same time:
//   - this machine's node (x86-64, Node 20 here): the issue's budget, under 64 MB (a Pi Zero 2 W
//     has 512 MB). An official Node build on a Pi's arm64 is the same V8 and the same code.
//   - Debian bookworm's own nodejs 18.20 (what `apt install nodejs` gives on Raspberry Pi OS),
//     its x86-64 build run natively from the packages (tools/pi/pi-node.sh ARCH=amd64, root in
//     .cache/pi-amd64, ~30 MB downloaded once; needs root for a private mount namespace, as CI
//     has). Emulated arm64 would be the board's own binary, but qemu-user's translation cache
//     and its own heap are counted in the process's RSS, so the figure would say nothing about a
//     board; the x86-64 build of the same package has the same V8, the same libnode and the same
//     pointer size as arm64. Bare, this node already takes 49.8 MB (36.6 MB of it the pages of
//     libnode, ICU and OpenSSL it maps), 10 MB more than Node 20: the agent is at 63.5-64.1 MB
//     after warm-up and 66.1-66.6 MB after the burst (9 runs). What is missing
//     is outside these files (docs/raspberry-pi.md "Memory"): the model store keeps the model
//     file's bytes and the compiled model the graph's copy of the weights (2.6 MB, measured), the
//     offline agent evaluates mqtt.js for nothing (2.5 MB). This leg asserts the measured floor
//     plus ~2 MB (NODE18_CEILING_BYTES), so that a regression fails here too; it becomes
//     BUDGET_BYTES once those land.
// The model is the worst case the agent serves as JSON: trained weights as `edgenn train --out`
// writes them (3.1 MB of text, which the model store keeps), not a seed-only file. The config is
// the serving agent of device.example.json (maxBatch 32, no fineTune: fine-tuning adds its arena,
// 3.96 MB for Adam at batch 32 once a run has touched it, and its sample buffer, bufferSize x 784
// x 4 bytes once filled). A broker adds mqtt.js's packet-number cache (~10 MB, see the docs).
// Tolerance: none beyond the budgets. Nine runs of each leg alone spread by 0.5 MB after the burst
// (Node 20: 61.2-61.7 MB, 2.3 MB under the budget; Node 18: 66.1-66.6 MB); with the whole test
// suite running beside it, 61.3 and 67.3 MB. A breach is a change in what the agent holds.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles, type BundleResult } from '../../../tools/bundle.js';
import {
  formatAgentRss, measureAgentRss, mlpJsonModel, unitCommand, type AgentRssFigures, type NodeCommand, type UnitCommand,
} from '../../../tools/pi/agent-rss.js';
import { expectOk, piNode, piNodeCommand } from './support.js';

const MB = 1024 * 1024;
/** The issue's budget (a Pi Zero 2 W has 512 MB). */
const BUDGET_BYTES = 64 * MB;
/** Debian's Node 18: the floor measured with these files (66.1-66.6 MB alone, 67.3 MB with the
 * whole test suite running beside it) plus ~2 MB; see the header. */
const NODE18_CEILING_BYTES = 69 * MB;
const INFERENCES = 2000;

let work: string;
let dist: BundleResult;
let unit: UnitCommand;
const results = new Map<string, Promise<AgentRssFigures>>();

function start(node: NodeCommand): void {
  const dir = path.join(work, node.label);
  fs.mkdirSync(dir, { recursive: true });
  const p = measureAgentRss({ node, bundle: dist.agent, unit, model: path.join(work, 'mlp.json'), workDir: dir, inferences: INFERENCES });
  p.catch(() => undefined); // reported by the test that awaits it
  results.set(node.label, p);
}

const mb = (b: number): string => (b / MB).toFixed(1);

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-rss-'));
  dist = await buildBundles({ outDir: path.join(work, 'dist') });
  unit = unitCommand(fs.readFileSync(path.join(dist.deviceDir, 'edgenn-agent.service'), 'utf8'));
  fs.writeFileSync(path.join(work, 'mlp.json'), mlpJsonModel());
  // Debian's Node 18 root first (a no-op once cached), so that its download is not in a measurement
  expectOk("setting up Debian bookworm's amd64 Node 18 (tools/pi/pi-node.sh)", await piNode('amd64', [], 170_000));
  // both legs at once: each reads its own process
  start({ label: 'this-node', cmd: process.execPath, args: [], env: process.env });
  start({ label: 'debian-node18', ...piNodeCommand('amd64') });
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([...results.values()]);
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('the agent bundle under the systemd unit\'s flags, 784-256-128-10 model, offline', () => {
  it('runs as the unit says: the agent bundle with node flags and Environment= read from the unit', () => {
    expect(unit.bundle).toBe('/opt/edgenn/edgenn-agent.cjs');
    expect(unit.args.slice(0, 2)).toEqual(['agent', '--config']);
    // the flags that hold the young generation, the loading garbage and the allocator's free memory down
    expect(unit.flags).toContain('--max-semi-space-size=1');
    expect(unit.flags).toContain('--expose-gc');
    expect(unit.env.GLIBC_TUNABLES).toMatch(/glibc\.malloc\.trim_threshold=\d+/);
  });

  it(`stays under 64 MB on this machine's node (${process.version}) after warm-up and after ${INFERENCES} inferences`, async () => {
    const f = await results.get('this-node')!;
    console.log(formatAgentRss(f, INFERENCES));
    expect(f.warmBytes, `after warm-up: ${mb(f.warmBytes)} MB`).toBeLessThan(BUDGET_BYTES);
    expect(f.afterBytes, `after ${INFERENCES} inferences: ${mb(f.afterBytes)} MB`).toBeLessThan(BUDGET_BYTES);
  }, 120_000);

  it(`stays at its measured floor on Debian's Node 18 (x86-64 build) after warm-up and after ${INFERENCES} inferences`, async () => {
    const f = await results.get('debian-node18')!;
    console.log(formatAgentRss(f, INFERENCES));
    const gap = `; the issue's 64 MB budget is ${f.afterBytes < BUDGET_BYTES ? 'met' : `missed by ${mb(f.afterBytes - BUDGET_BYTES)} MB`}`;
    console.log(`debian-node18: ${gap.slice(2)}`);
    expect(f.warmBytes, `after warm-up: ${mb(f.warmBytes)} MB${gap}`).toBeLessThan(NODE18_CEILING_BYTES);
    expect(f.afterBytes, `after ${INFERENCES} inferences: ${mb(f.afterBytes)} MB${gap}`).toBeLessThan(NODE18_CEILING_BYTES);
  }, 120_000);
});
