// `edgenn fleet watch` and `edgenn broker` (tools/cli/commands/{fleet,broker}.ts), in-process
// through runCli: --json against a real mosquitto with a live agent (records de-duplicated, the
// merged row carrying model version, p95, loss and queue depth), the table, and the embedded broker
// serving an agent (MQTT 5 refused, 3.1.1 fallback). Bounded runs (--duration).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../devices/agent/agent.js';
import { loadAgentConfig } from '../../../devices/agent/config.js';
import type { CliIo } from '../../../tools/cli/command.js';
import { brokerCommand } from '../../../tools/cli/commands/broker.js';
import { fleetCommand, renderFleetTable } from '../../../tools/cli/commands/fleet.js';
import { runCli } from '../../../tools/cli/main.js';
import { freePort, startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { FINE_TUNE, blobs, sleep, until, work, type Work } from './support.js';

let mosq: Mosquitto;
let w: Work;
beforeAll(async () => { mosq = await startMosquitto(); w = work('edgenn-agent-fleet-'); });
afterAll(async () => { await mosq?.dispose(); w?.cleanup(); });

function io(isTTY = false): CliIo & { out: () => string; err: () => string } {
  let out = '', err = '';
  return { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, isTTY, cwd: w.dir, out: () => out, err: () => err };
}

async function busyAgent(url: string, stateDir: string, device = 'pi1'): Promise<{ agent: Agent; stop: () => Promise<void> }> {
  const agent = await startAgent(loadAgentConfig(w.config({ device, stateDir, broker: { url }, reportIntervalMs: 150, fineTune: FINE_TUNE })));
  const { x, y } = blobs(60, 31);
  for (let i = 0; i < 60; i++) agent.port.addSample(x[i]!, y[i]!);
  let k = 0;
  const timer = setInterval(() => { for (let i = 0; i < 20; i++) agent.port.infer(x[k++ % 60]!); }, 20);
  return { agent, stop: async () => { clearInterval(timer); await agent.stop(); } };
}

describe('edgenn fleet watch', () => {
  it('--json streams merged, de-duplicated records of a live agent', async () => {
    const a = await busyAgent(mosq.url, 'state-json');
    const o = io();
    const watching = runCli(['fleet', 'watch', '--broker', mosq.url, '--fleet', 'lab', '--json', '--duration', '2.5'], o, [fleetCommand]);
    await sleep(600);
    await a.agent.fineTune('command');
    const code = await watching;
    await a.stop();
    expect(code).toBe(0);
    const lines = o.out().trim().split('\n').map((l) => JSON.parse(l) as { fleet: string; device: string; kind: string; record: Record<string, unknown>; view: Record<string, unknown> });
    expect(lines.length).toBeGreaterThan(5);
    expect(new Set(lines.map((l) => `${l.fleet}/${l.device}`))).toEqual(new Set(['lab/pi1']));
    const metrics = lines.filter((l) => l.kind === 'metrics');
    expect(metrics.length).toBeGreaterThanOrEqual(5);            // 150 ms interval over ~2 s
    const seqs = lines.filter((l) => l.kind !== 'status').map((l) => l.record.seq as number);
    expect(new Set(seqs).size).toBe(seqs.length);                // de-duplicated
    expect(lines.some((l) => l.kind === 'status' && l.record.state === 'online')).toBe(true);
    expect(lines.some((l) => l.kind === 'events' && l.record.type === 'fine-tuned')).toBe(true);
    const last = metrics[metrics.length - 1]!;
    expect(last.view).toMatchObject({ device: 'pi1', online: true, modelVersion: '1.0.0' });
    expect(typeof last.view.p95Us).toBe('number');
    expect(typeof last.view.outboxDepth).toBe('number');
    expect(lines.some((l) => typeof l.view.lastLoss === 'number')).toBe(true);   // the fine-tune's loss
  });

  it('prints the device table (and sees a stopped device go offline)', async () => {
    const a = await busyAgent(mosq.url, 'state-table', 'pi7');
    await until(() => a.agent.telemetry.transport.connected, 5000, () => 'agent connect');
    await sleep(400);
    await a.stop();                                              // retained status: offline (shutdown)
    const o = io(false);
    const code = await runCli(['fleet', 'watch', '--broker', mosq.url, '--duration', '1.5'], o, [fleetCommand]);
    expect(code).toBe(0);
    const tables = o.out().trim().split('\n\n');
    const t = tables[tables.length - 1]!;
    expect(t.split('\n')[0]).toMatch(/^FLEET\s+DEVICE\s+STATE\s+MODEL\s+P95 ms\s+LOSS\s+QUEUE\s+LAST SEEN$/);
    // a retained offline status carries no model (SCHEMA.md), so a device seen only through it
    // shows '-' for the model
    expect(t).toMatch(/\nlab\s+pi7\s+offline\s+-\s+-\s+-\s+-\s+\d+s ago(\n|$)/);
  });

  it('renders rows exactly', () => {
    const now = 1_000_000;
    const t = renderFleetTable([{ fleet: 'lab', view: { device: 'pi1', online: true, modelVersion: '2.0.0', p95Us: 1234.5, lastLoss: 0.123456, outboxDepth: 3, lastSeen: now - 4000, lastSeq: 9, dropped: 0 } },
      { fleet: 'lab', view: { device: 'pi2', online: null, modelVersion: null, p95Us: null, lastLoss: null, outboxDepth: null, lastSeen: 0, lastSeq: 0, dropped: 0 } }], now);
    expect(t).toBe([
      'FLEET  DEVICE  STATE   MODEL  P95 ms  LOSS    QUEUE  LAST SEEN',
      'lab    pi1     online  2.0.0  1.234   0.1235  3      4s ago',
      'lab    pi2     ?       -      -       -       -      -',
    ].join('\n') + '\n');
  });

  it('refuses a bad action or URL with exit code 2', async () => {
    const o = io();
    expect(await runCli(['fleet', 'list', '--broker', mosq.url], o, [fleetCommand])).toBe(2);
    expect(o.err()).toContain('unknown fleet action "list"');
    expect(await runCli(['fleet', 'watch', '--broker', 'nope'], o, [fleetCommand])).toBe(2);
    expect(await runCli(['fleet', 'watch', '--broker', mosq.url, '--fleet', 'a/b'], o, [fleetCommand])).toBe(2);
  });
});

describe('edgenn broker', () => {
  it('runs the embedded broker for --duration; an agent falls back to MQTT 3.1.1 and reports through it', async () => {
    const port = await freePort();
    const o = io();
    const running = runCli(['broker', '--port', String(port), '--duration', '3'], o, [brokerCommand]);
    await until(() => o.out().includes('listening'), 5000, () => 'broker start');
    expect(o.out()).toBe(`edgenn broker: listening on mqtt://127.0.0.1:${port} (MQTT 3.1.1, in memory, no auth); Ctrl-C stops\n`);
    const a = await busyAgent(`mqtt://127.0.0.1:${port}`, 'state-aedes', 'pi9');
    const f = io();
    const watch = runCli(['fleet', 'watch', '--broker', `mqtt://127.0.0.1:${port}`, '--json', '--duration', '1.2'], f, [fleetCommand]);
    await until(() => a.agent.telemetry.transport.connected, 5000, () => 'agent connect');
    expect(a.agent.telemetry.transport.protocolVersion).toBe(4);
    expect(await watch).toBe(0);
    await a.stop();
    expect(f.out()).toContain('"device":"pi9","kind":"metrics"');
    expect(await running).toBe(0);
    expect(o.err()).toContain('edgenn broker: stopped');
  });
});
