// The documented mosquitto ACL (docs/mosquitto.acl) against a real mosquitto with a password
// file: a client logged in as device pi1 cannot publish into pi2's topics, cannot read pi2's cmd
// and cannot send commands; positive controls show the same clients can do what the ACL allows
// (so a silent broker cannot make this test pass), and a real agent works through it end to end.
// Needs /usr/sbin/mosquitto (fails, never skips, without it). Bounded waits throughout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../../../devices/agent/agent.js';
import { loadAgentConfig } from '../../../devices/agent/config.js';
import { createMqttTransport, type Transport } from '../../../devices/telemetry/mqtt-transport.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { listen, sleep, until, work, type Listener, type Work } from './support.js';

const ACL = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../../../docs/mosquitto.acl'), 'utf8');
const PASSWORDS = { pi1: 'pw-one-Secret', pi2: 'pw-two-Secret', 'fleet-ops': 'pw-ops-Secret' };

let mosq: Mosquitto;
let w: Work;
const clients: Transport[] = [];
const listeners: Listener[] = [];

beforeAll(async () => {
  mosq = await startMosquitto({ allowAnonymous: false, passwords: PASSWORDS, acl: ACL });
  w = work('edgenn-agent-acl-');
});
afterAll(async () => {
  for (const c of clients) await c.end();
  for (const l of listeners) await l.close();
  await mosq?.dispose();
  w?.cleanup();
});

async function client(user: keyof typeof PASSWORDS, received?: Array<{ topic: string; payload: string }>): Promise<Transport> {
  const t = createMqttTransport({ url: mosq.url, clientId: `acl-test-${user}-${clients.length}`, username: user, password: PASSWORDS[user], reconnectMinMs: 50, reconnectMaxMs: 200 });
  if (received !== undefined) t.onMessage((topic, p) => received.push({ topic, payload: p.toString() }));
  t.start();
  clients.push(t);
  await until(() => t.connected, 5000, () => `${user} connect`);
  expect(t.protocolVersion).toBe(5);
  return t;
}

const rec = (device: string, n: number): string => JSON.stringify({ v: 1, seq: n, ts: 1, device, probe: n });

describe('mosquitto ACL for devices', () => {
  it('refuses anonymous and wrong-password clients', async () => {
    const t = createMqttTransport({ url: mosq.url, clientId: 'acl-anon', username: 'pi1', password: 'wrong', reconnectMinMs: 5000, connectTimeoutMs: 2000 });
    t.start();
    await sleep(500);
    expect(t.connected).toBe(false);
    await t.end();
  });

  it('a device publishes only under its own topics and reads only its own cmd', async () => {
    const ops = await listen(mosq.url, 'edgenn/lab/#', { username: 'fleet-ops', password: PASSWORDS['fleet-ops'] });
    listeners.push(ops);
    const got1: Array<{ topic: string; payload: string }> = [];
    const got2: Array<{ topic: string; payload: string }> = [];
    const pi1 = await client('pi1', got1);
    const pi2 = await client('pi2', got2);
    await pi1.subscribe('edgenn/lab/pi1/cmd', 1);
    await pi1.subscribe('edgenn/lab/pi2/cmd', 1);              // not allowed: nothing will arrive
    await pi1.subscribe('edgenn/lab/+/cmd', 1);                // wildcard over others: not allowed either
    await pi2.subscribe('edgenn/lab/pi2/cmd', 1);

    // positive control: its own topics go through
    await pi1.publish('edgenn/lab/pi1/metrics', rec('pi1', 1), { qos: 1 });
    await pi1.publish('edgenn/lab/pi1/status', rec('pi1', 2), { qos: 1 });
    // into another device's topics: the MQTT 5 PUBACK says "Not authorized"
    for (const kind of ['metrics', 'status', 'events', 'reply', 'cmd']) {
      await expect(pi1.publish(`edgenn/lab/pi2/${kind}`, rec('pi2', 9), { qos: 1 })).rejects.toThrow(/Not authorized|135/i);
    }
    // a device cannot command itself either (only fleet-ops writes cmd)
    await expect(pi1.publish('edgenn/lab/pi1/cmd', '{"id":"x","cmd":"status"}', { qos: 1 })).rejects.toThrow(/Not authorized|135/i);

    // the operator commands both devices; each receives only its own
    const ops2 = await client('fleet-ops');
    await ops2.publish('edgenn/lab/pi1/cmd', '{"id":"to-pi1","cmd":"status"}', { qos: 1 });
    await ops2.publish('edgenn/lab/pi2/cmd', '{"id":"to-pi2","cmd":"status"}', { qos: 1 });
    await until(() => got1.length >= 1 && got2.length >= 1, 5000, () => `cmds delivered (pi1 ${got1.length}, pi2 ${got2.length})`);
    await until(() => ops.msgs.length >= 2, 5000, () => 'control messages at fleet-ops');
    await sleep(300);
    // (pi1's own cmd may arrive twice: it also matches pi1's edgenn/lab/+/cmd subscription)
    expect([...new Set(got1.map((m) => m.topic))]).toEqual(['edgenn/lab/pi1/cmd']);
    expect(got1.every((m) => m.payload.includes('to-pi1'))).toBe(true);
    expect(got2.map((m) => m.topic)).toEqual(['edgenn/lab/pi2/cmd']);
    const seen = ops.msgs.map((m) => m.topic);
    expect(seen.filter((t) => t.startsWith('edgenn/lab/pi2/'))).toEqual(['edgenn/lab/pi2/cmd']); // only the operator's own cmd
    expect(seen).toContain('edgenn/lab/pi1/metrics');
    expect(seen).toContain('edgenn/lab/pi1/status');
  });

  it('a real agent works through the ACL: telemetry out, commands in, replies back, no secret in its log', async () => {
    w.write('pw.txt', `${PASSWORDS.pi1}\n`);
    const ops = await listen(mosq.url, 'edgenn/lab/#', { username: 'fleet-ops', password: PASSWORDS['fleet-ops'] });
    listeners.push(ops);
    const logs: string[] = [];
    const agent = await startAgent(loadAgentConfig(w.config({
      broker: { url: mosq.url, username: 'pi1', passwordFile: 'pw.txt' }, reportIntervalMs: 200,
    })), { log: (l) => logs.push(l) });
    try {
      await until(() => agent.telemetry.transport.connected, 5000, () => 'agent connect');
      await until(() => ops.of('metrics').length >= 1 && ops.of('status').some((s) => s.state === 'online'), 5000, () => 'agent telemetry');
      const opsT = await client('fleet-ops');
      await opsT.publish('edgenn/lab/pi1/cmd', JSON.stringify({ v: 1, id: 'acl-1', cmd: 'status' }), { qos: 1 });
      await until(() => ops.of('reply').some((r) => r.id === 'acl-1'), 5000, () => 'reply');
      expect(ops.of('reply').find((r) => r.id === 'acl-1')).toMatchObject({ ok: true, device: 'pi1', data: { device: 'pi1' } });

      // MQTT 5 response topics: the documented ACL lets pi1 write under .../reply/#, so a
      // per-request topic there is honoured, with the correlation data echoed.
      const got: Array<{ topic: string; id: unknown; corr: Buffer | undefined }> = [];
      opsT.onMessage((topic, payload, props) => {
        if (topic.endsWith('/cmd')) return; // our own commands come back through the wildcard
        try { got.push({ topic, id: (JSON.parse(payload.toString()) as { id?: unknown }).id, corr: props.correlationData }); } catch { /* not JSON */ }
      });
      await opsT.subscribe('edgenn/lab/pi1/#', 1);
      const corr = Buffer.from([7, 0, 7]);
      await opsT.publish('edgenn/lab/pi1/cmd', JSON.stringify({ v: 1, id: 'acl-2', cmd: 'status' }),
        { qos: 1, properties: { responseTopic: 'edgenn/lab/pi1/reply/ops-1', correlationData: corr } });
      await until(() => got.some((g) => g.id === 'acl-2'), 8000, () => 'the routed reply');
      expect(got.filter((g) => g.id === 'acl-2')).toEqual([{ topic: 'edgenn/lab/pi1/reply/ops-1', id: 'acl-2', corr }]);
      // A response topic under pi1's prefix that the ACL does not grant: the broker refuses it
      // (PUBACK 0x87) and the agent re-sends the reply on .../reply, still correlated, instead of
      // retrying the refused topic forever.
      const corr3 = Buffer.from([3, 3]);
      await opsT.publish('edgenn/lab/pi1/cmd', JSON.stringify({ v: 1, id: 'acl-3', cmd: 'status' }),
        { qos: 1, properties: { responseTopic: 'edgenn/lab/pi1/answers/ops-1', correlationData: corr3 } });
      await until(() => got.some((g) => g.id === 'acl-3'), 8000, () => 'the re-routed reply');
      expect(got.filter((g) => g.id === 'acl-3')).toEqual([{ topic: 'edgenn/lab/pi1/reply', id: 'acl-3', corr: corr3 }]);
      expect(logs.some((l) => l.includes('response topic edgenn/lab/pi1/answers/ops-1 refused'))).toBe(true);
      await until(() => agent.telemetry.outbox.depth === 0, 5000, () => 'outbox drained');
    } finally {
      await agent.stop();
    }
    const all = logs.join('\n') + JSON.stringify(ops.msgs);
    expect(all).not.toContain(PASSWORDS.pi1);
  });
});
