// The bundle on an emulated Raspberry Pi: Debian bookworm's own nodejs 18.20 for arm64 (64-bit Pi
// OS) and armhf (32-bit Pi OS) under qemu-user-static (tools/pi/pi-node.sh unpacks it from Debian
// packages into .cache/pi-<arch> once; later runs reuse it). The device package's bundles run
// with the systemd unit's node flags (read from devices/package/edgenn-agent.service):
//   - an inference (`run` on a JSON model and a CSV) with the CLI, dist/device/edgenn.cjs,
//   - a short fine-tune (`train`: 3 epochs, SGD at a fixed lr, no shuffle, --out and --log-json),
//     with the same,
//   - the agent itself with the agent bundle, dist/device/edgenn-agent.cjs (`agent --config ...
//     --duration 4`, reporting every 250 ms to the embedded MQTT broker on loopback in this
//     process): it starts, publishes metrics records that a subscriber here receives, and stops
//     cleanly;
// and every result is compared with the same bundle run by this machine's (x86-64) node. The
// reference run also runs pi-smoke.cjs (ONNX decode through protobufjs + one metrics record with
// its PUBACK); it is not emulated: nothing in it depends on the architecture that the legs above
// do not already cover, and each emulated start costs seconds.
//
// It never skips: without network to the Debian mirror (first run only) or without qemu, it fails
// with pi-node.sh's message. Both architectures run at the same time; three bundle starts per
// architecture. Budget: ~1 min with a cached root on an idle 2-core machine, plus ~45 s for the
// one-time download.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles, type BundleResult } from '../../../tools/bundle.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../devices/telemetry/embedded-broker.js';
import { createMqttTransport, type Transport } from '../../../devices/telemetry/mqtt-transport.js';
import { unitCommand } from '../../../tools/pi/agent-rss.js';
import {
  FIXTURES, REPO, closeness, expectOk, piNode, spawnCapture, type PiArch, type Spawned,
} from './support.js';

const ARCHES: readonly PiArch[] = ['arm64', 'armhf'];
/** The systemd unit's node flags (devices/package/edgenn-agent.service). */
const NODE_FLAGS = unitCommand(fs.readFileSync(path.join(REPO, 'devices/package/edgenn-agent.service'), 'utf8')).flags;
const FLEET = 'pi-test';
const SMOKE_ROWS = 5;
const MODEL = path.join(FIXTURES, 'model.json');
const ONNX = path.join(REPO, 'test/fixtures/onnx-node-tests/test_conv_with_strides_padding/model.onnx');
const TRAIN_ARGS = ['--loss', 'cross-entropy', '--optimizer', 'sgd', '--lr', '0.1', '--epochs', '3', '--batch-size', '4', '--no-shuffle'];

// Tolerances, x86-64 vs emulated ARM, same bundle, same float32 arithmetic. +, -, *, / are IEEE
// exact in every V8, and the kernels run in the same order, so most values come out bit-identical.
// NOTE: what may differ is Math.tanh/exp/log: V8's fdlibm ports are C++ compiled per architecture
// (GCC may contract a*b+c into one FMA on arm64), so a double result can differ by one ulp; rounded
// to float32 that is at most one float32 ulp (6e-8 at 1.0).
// Inference: 1e-6 absolute + 1e-6 relative (~16 float32 ulps at 1.0): room for a one-ulp tanh
// difference carried through one 8-term dense layer, far below any real bug (a wrong weight,
// layout or activation moves outputs by > 1e-3).
const RUN_ATOL = 1e-6, RUN_RTOL = 1e-6;
// Fine-tune, 12 SGD steps at lr 0.1: a one-ulp difference is fed back through every step, so
// 1e-5 absolute + 1e-5 relative on weights and per-step losses; shuffling on, another lr or a
// skipped step changes the losses by > 1e-3 (checked below against the first step's loss).
const TRAIN_ATOL = 1e-5, TRAIN_RTOL = 1e-5;

interface RunOut { readonly outputs: Record<string, { readonly dims: number[]; readonly data: number[] }> }
interface TrainOut { readonly params: number[]; readonly losses: number[] }
interface SmokeOut {
  readonly metrics: { readonly seq: number; readonly device: string; readonly inferences: number; readonly agent: string };
  readonly onnx: unknown;
}
interface Suite {
  readonly run: Result<RunOut>;
  readonly train: Result<TrainOut>;
  /** native only */
  readonly smoke: Result<SmokeOut> | null;
  /** the agent's device name; its records are in `received` */
  readonly agent: Result<string>;
  /** the inference's spawn → first stdout (ms) */
  readonly runFirstMs: number;
}
type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };
type Exec = (args: readonly string[], what: string) => Promise<Spawned>;

async function attempt<T>(f: () => Promise<T>): Promise<Result<T>> {
  try { return { ok: true, value: await f() }; } catch (e) { return { ok: false, error: e as Error }; }
}
function value<T>(r: Result<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

let work: string;
let dist: BundleResult;
let broker: EmbeddedBroker;
let observer: Transport;
const received: { topic: string; payload: string }[] = [];
let native: Suite;
const emulated = new Map<PiArch, Promise<{ root: Result<string>; suite: Suite | null }>>();

function trainParams(file: string): number[] {
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { layers: { weight?: number[]; biasData?: number[] }[] };
  return m.layers.flatMap((l) => [...(l.weight ?? []), ...(l.biasData ?? [])]);
}

/** The three legs with one node (native or emulated), each kept separately so one failure does
 * not hide the others. */
async function suite(label: string, exec: Exec, withSmoke: boolean): Promise<Suite> {
  const dir = path.join(work, label);
  fs.mkdirSync(dir, { recursive: true });
  let runFirstMs = NaN;
  const [run, train, smoke, agent] = await Promise.all([
    attempt(async () => {
      const r = expectOk(`${label} run`, await exec([...NODE_FLAGS, dist.deviceCli, 'run', MODEL, path.join(FIXTURES, 'input.csv')], 'run'));
      runFirstMs = r.firstStdoutMs;
      return JSON.parse(r.stdout) as RunOut;
    }),
    attempt(async () => {
      const out = path.join(dir, 'trained.json');
      const log = path.join(dir, 'log.jsonl');
      expectOk(`${label} train`, await exec([...NODE_FLAGS, dist.deviceCli, 'train', MODEL, '--data', path.join(FIXTURES, 'train.csv'),
        ...TRAIN_ARGS, '--out', out, '--log-json', log], 'train'));
      const losses = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: number }).loss);
      return { params: trainParams(out), losses };
    }),
    !withSmoke ? null : attempt(async () => {
      const r = expectOk(`${label} pi-smoke`, await exec([...NODE_FLAGS, dist.smoke!, '--url', broker.url, '--state', path.join(dir, 'state'),
        '--fleet', FLEET, '--device', label, '--model', MODEL, '--rows', String(SMOKE_ROWS), '--onnx', ONNX], 'smoke'));
      return JSON.parse(r.stdout) as SmokeOut;
    }),
    attempt(async () => {
      const device = `${label}-agent`;
      const state = path.join(dir, 'agent-state');
      fs.mkdirSync(state, { recursive: true });
      const config = path.join(dir, 'device.json');
      fs.writeFileSync(config, JSON.stringify({
        device, fleet: FLEET, stateDir: state, broker: { url: broker.url },
        model: { store: path.join(state, 'models'), path: MODEL, id: 'pi-test', version: '1' },
        signature: { input: [4], output: [3] }, maxBatch: 4, sources: [], reportIntervalMs: 250,
      }));
      expectOk(`${label} agent`, await exec([...NODE_FLAGS, dist.agent, 'agent', '--config', config, '--duration', '4'], 'agent'));
      return device;
    }),
  ]);
  return { run, train, smoke, agent, runFirstMs };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-pi-'));
  dist = await buildBundles({ outDir: path.join(work, 'dist'), smoke: true });
  broker = await startEmbeddedBroker({ port: 0 });
  observer = createMqttTransport({ url: broker.url, clientId: 'pi-test-observer', reconnectMinMs: 50, reconnectMaxMs: 200 });
  observer.onMessage((topic, payload) => received.push({ topic, payload: payload.toString('utf8') }));
  void observer.subscribe(`edgenn/${FLEET}/+/metrics`, 1);
  observer.start();
  await until(() => observer.connected, 10_000, 'the observer to connect to the embedded broker');
  // the reference first, alone, so its timing is not disturbed by the emulators
  native = await suite('x64', (args) => spawnCapture(process.execPath, args, { timeoutMs: 60_000 }), true);
  for (const arch of ARCHES) {
    // started here, awaited by the tests: both architectures emulate at the same time
    const p = (async () => {
      const root = await attempt(async () => expectOk(`setting up Debian bookworm's ${arch} Node 18 (tools/pi/pi-node.sh)`,
        await piNode(arch, [], 170_000)).stdout.trim());
      if (!root.ok) return { root, suite: null };
      return { root, suite: await suite(arch, (args) => piNode(arch, args, 150_000), false) };
    })();
    emulated.set(arch, p);
  }
}, 90_000);

afterAll(async () => {
  // wait for the emulators before closing the broker (a failed test must not orphan a process)
  await Promise.allSettled([...emulated.values()]);
  await observer?.end();
  await broker?.close();
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
}, 200_000);

async function emulatedSuite(arch: PiArch): Promise<Suite> {
  const e = await emulated.get(arch)!;
  value(e.root);
  return e.suite!;
}

describe('the reference run on this machine', () => {
  it('runs inference, fine-tune and agent natively', () => {
    expect(value(native.run).outputs['2:out']!.dims).toEqual([6, 3]);
    const t = value(native.train);
    expect(t.losses).toHaveLength(12); // 16 rows / batch 4 = 4 steps x 3 epochs
    // the fine-tune learns: a model that did not change would repeat its first loss
    expect(Math.abs(t.losses[11]! - t.losses[0]!)).toBeGreaterThan(1e-3);
    expect(received.some((m) => m.topic === `edgenn/${FLEET}/${value(native.agent)}/metrics`)).toBe(true);
  });

  it('decodes ONNX and publishes a metrics record that reaches the broker (pi-smoke.cjs)', async () => {
    const got = value(native.smoke!);
    // test_conv_with_strides_padding: one Conv with int64 attributes (decoded through long.js)
    expect(got.onnx).toMatchObject({ nodes: [{ op: 'Conv', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } }] });
    expect(got.metrics).toMatchObject({ device: 'x64', inferences: SMOKE_ROWS, agent: 'pi-smoke' });
    // pi-smoke exits 0 only after the PUBACK; the subscriber may see it a moment later
    const topic = `edgenn/${FLEET}/x64/metrics`;
    await until(() => received.some((m) => m.topic === topic), 5_000, `a message on ${topic}`);
    const arrived = received.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload) as SmokeOut['metrics']);
    expect(arrived.find((m) => m.seq === got.metrics.seq)).toEqual(got.metrics);
  });
});

describe.each(ARCHES)('Node 18 on an emulated Pi (%s)', (arch) => {
  it('is Debian bookworm\'s Node 18 for the architecture', async () => {
    const e = await emulated.get(arch)!;
    const line = value(e.root);
    expect(line).toMatch(new RegExp(`^${arch === 'arm64' ? 'arm64' : 'arm'} v18\\.`));
  }, 200_000);

  it('infers the same outputs as x86-64', async () => {
    const s = await emulatedSuite(arch);
    const got = value(s.run);
    const want = value(native.run);
    expect(Object.keys(got.outputs)).toEqual(Object.keys(want.outputs));
    for (const [name, o] of Object.entries(want.outputs)) {
      expect(got.outputs[name]!.dims).toEqual(o.dims);
      const c = closeness(got.outputs[name]!.data, o.data, RUN_ATOL, RUN_RTOL);
      expect(c.worst, `${arch} ${name}: max |diff| ${c.maxAbs} at ${c.at}`).toBeLessThanOrEqual(1);
    }
    console.log(`${arch}: process start to inference result ${s.runFirstMs.toFixed(0)} ms (native ${native.runFirstMs.toFixed(0)} ms, ` +
      `x${(s.runFirstMs / native.runFirstMs).toFixed(1)}, both measured while other processes ran)`);
  }, 200_000);

  it('fine-tunes to the same weights and losses as x86-64', async () => {
    const s = await emulatedSuite(arch);
    const got = value(s.train);
    const want = value(native.train);
    const l = closeness(got.losses, want.losses, TRAIN_ATOL, TRAIN_RTOL);
    expect(l.worst, `${arch} losses: max |diff| ${l.maxAbs} at step ${l.at + 1}`).toBeLessThanOrEqual(1);
    const p = closeness(got.params, want.params, TRAIN_ATOL, TRAIN_RTOL);
    expect(p.worst, `${arch} trained params: max |diff| ${p.maxAbs} at ${p.at}`).toBeLessThanOrEqual(1);
    console.log(`${arch}: fine-tune max |diff| vs x86-64: losses ${l.maxAbs}, params ${p.maxAbs}`);
  }, 200_000);

  it('runs the agent, which reports metrics to the broker and stops cleanly', async () => {
    const s = await emulatedSuite(arch);
    const device = value(s.agent); // exit code 0 after --duration 4
    const records = received.filter((m) => m.topic === `edgenn/${FLEET}/${device}/metrics`)
      .map((m) => JSON.parse(m.payload) as { device: string; seq: number; model: { id: string } });
    expect(records.length).toBeGreaterThan(0);
    expect(records[0]).toMatchObject({ device, model: { id: 'pi-test' } });
  }, 200_000);
});
