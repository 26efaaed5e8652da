// Demo part 4: a real device agent (devices/agent) reporting to a fleet over MQTT, with no server
// to install: an in-process MQTT 3.1.1 broker (aedes) on a free loopback port, the agent serving
// inference over its localhost HTTP endpoint, labelled samples fine-tuning the model on the
// "device", and the fleet side (FleetMerge, what `edgenn fleet watch` shows) reading the topics.
// Everything lives in a temporary folder that is removed afterwards.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedBroker } from '../../../devices/telemetry/embedded-broker.js';
import { createMqttTransport } from '../../../devices/telemetry/mqtt-transport.js';
import { FleetMerge, attachFleetMerge } from '../../../devices/telemetry/fleet-merge.js';
import { validateAgentConfig } from '../../../devices/agent/config.js';
import { startAgent } from '../../../devices/agent/agent.js';
import { Rng } from '../../../runtime/random.js';
import type { DemoOut, DemoPart, DemoPartResult } from './part.js';

/** POST a JSON body to the agent's loopback HTTP endpoint; resolves to the parsed answer. */
function post(base: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const u = new URL(path, base);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>); } catch (e) { reject(e); }
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Waits (bounded) until cond() holds. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Two Gaussian blobs in 2-D: class 0 around (-1, 0), class 1 around (1, 0). */
function blob(rng: Rng): { x: number[]; label: number } {
  const label = rng.int(2);
  return { x: [(label === 0 ? -1 : 1) + 0.5 * rng.normal(), 0.5 * rng.normal()], label };
}

async function run(out: DemoOut): Promise<DemoPartResult> {
  const dir = mkdtempSync(join(tmpdir(), 'edgenn-demo-fleet-'));
  const broker = await startEmbeddedBroker({ port: 0 });
  const fleetT = createMqttTransport({ url: broker.url, clientId: 'edgenn-demo-fleet', protocol: 'auto' });
  const merge = new FleetMerge('demo');
  let agent: Awaited<ReturnType<typeof startAgent>> | null = null;
  try {
    out.line(`   in-process MQTT broker (aedes, MQTT 3.1.1) at ${broker.url}; fleet "demo", device "pi-demo"`);
    await attachFleetMerge(fleetT, merge);
    fleetT.start();
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      format: 'edgenn-model', version: 1, input: { name: 'input', dims: [2] }, seed: 3,
      layers: [{ type: 'dense', out: 8 }, { type: 'relu' }, { type: 'dense', out: 2 }],
    }));
    const cfg = validateAgentConfig({
      device: 'pi-demo', fleet: 'demo', stateDir: join(dir, 'state'),
      broker: { url: broker.url },
      model: { store: join(dir, 'models'), path: join(dir, 'model.json'), id: 'blobs', version: '1.0.0' },
      signature: { input: [2], output: [2] },
      sources: [{ kind: 'http', port: 0 }],
      fineTune: { loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 0.05 }, minSamples: 32, epochs: 8, batchSize: 16 },
      reportIntervalMs: 200,
    }, join(dir, 'device.json'));
    agent = await startAgent(cfg);
    const base = agent.httpAddresses[0]!;
    out.line(`   agent started: model ${agent.model.id} ${agent.model.version}, inference at ${base}`);

    const rng = new Rng(11);
    let correct = 0;
    const N = 200;
    for (let i = 0; i < N; i++) {
      const s = blob(rng);
      const r = await post(base, '/infer', { id: i, x: s.x });
      const y = r['y'] as number[];
      if ((y[1]! > y[0]! ? 1 : 0) === s.label) correct++;
    }
    out.line(`   ${N} inferences over HTTP before fine-tuning: accuracy ${(correct / N).toFixed(2)}`);
    for (let i = 0; i < 128; i++) {
      const s = blob(rng);
      await post(base, '/sample', { x: s.x, label: s.label });
    }
    const o = await agent.fineTune() as unknown as Record<string, unknown>;
    const num = (k: string): string => (typeof o[k] === 'number' ? (o[k] as number).toFixed(4) : '-');
    out.line(`   128 labelled samples buffered on the device; fine-tune ${String(o['status'])} in ${String(o['steps'])} Adam steps: ` +
      `validation loss ${num('valLossBefore')} -> ${num('valLossAfter')}${o['accepted'] === true ? ' (kept, checkpointed)' : ' (rolled back)'}`);
    correct = 0;
    for (let i = 0; i < N; i++) {
      const s = blob(rng);
      const r = await post(base, '/infer', { id: i, x: s.x });
      const y = r['y'] as number[];
      if ((y[1]! > y[0]! ? 1 : 0) === s.label) correct++;
    }
    const after = correct / N;
    out.line(`   ${N} inferences after fine-tuning: accuracy ${after.toFixed(2)}`);

    agent.status(); // flushes a metrics record now
    const seen = await until(() => {
      const d = merge.devices().find((v) => v.device === 'pi-demo');
      return d !== undefined && d.online === true && d.p95Us !== null && d.lastLoss !== null;
    }, 5000);
    const d = merge.devices().find((v) => v.device === 'pi-demo');
    out.line('   what the fleet sees (edgenn fleet watch):');
    out.line('     device    online  model   p95 latency  last loss  queue');
    if (d !== undefined) {
      out.line(`     ${d.device.padEnd(9)} ${String(d.online).padEnd(7)} ${String(d.modelVersion).padEnd(7)} ` +
        `${d.p95Us === null ? '-' : `${d.p95Us.toFixed(0)} µs`.padEnd(12)} ${d.lastLoss === null ? '-' : d.lastLoss.toFixed(4).padEnd(10)} ${d.outboxDepth ?? '-'}`);
    }
    out.line(`     records received ${merge.counts.accepted}, duplicates dropped ${merge.counts.duplicates}`);
    const ok = seen && after >= 0.85;
    return { ok, summary: ok ? `agent served, fine-tuned to ${(after * 100).toFixed(0)}% and reported over MQTT` : 'the fleet did not see the expected telemetry' };
  } finally {
    if (agent !== null) await agent.stop();
    await fleetT.end();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const fleetPart: DemoPart = {
  name: 'fleet',
  title: 'A device agent on a (simulated) board, fine-tuning and reporting to its fleet over MQTT',
  run,
};
