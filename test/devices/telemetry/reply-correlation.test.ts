// Reply correlation against real brokers: an MQTT 5 requester (built on createMqttTransport, the
// one door of mqtt.js) sends cmds with a response topic and correlation data to startTelemetry on
// mosquitto 2; the reply comes back with the same correlation bytes, on the response topic when it
// lies under the device's prefix and on the standard reply topic otherwise; a reply queued while the
// broker is down is routed and correlated after the device restarts; on the embedded aedes broker
// (MQTT 3.1.1) the same exchange falls back to the payload id alone. Needs /usr/sbin/mosquitto
// (fails, never skips, without it). Bounded waits throughout; byte-exact comparisons.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../../devices/telemetry/embedded-broker.js';
import { createMqttTransport, type MessageProperties, type Transport } from '../../../devices/telemetry/mqtt-transport.js';
import type { CommandMessage, Telemetry } from '../../../devices/telemetry/publisher.js';
import { startTelemetry } from '../../../devices/telemetry/start-telemetry.js';
import { startMosquitto } from '../../helpers/mosquitto.js';
import { sleep, until } from './support.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

interface Got { topic: string; body: Record<string, unknown>; props: MessageProperties }

/** A fleet-side requester: subscribes to everything under edgenn/lab/ and to a foreign topic. */
async function requester(url: string): Promise<{ t: Transport; got: Got[] }> {
  const t = createMqttTransport({ url, clientId: `req-${randomBytes(4).toString('hex')}`, reconnectMinMs: 50, reconnectMaxMs: 200 });
  const got: Got[] = [];
  t.onMessage((topic, payload, props) => {
    let body: Record<string, unknown>;
    try { body = JSON.parse(payload.toString()) as Record<string, unknown>; } catch { body = {}; }
    got.push({ topic, body, props });
  });
  void t.subscribe('edgenn/lab/+/reply/#', 1);   // '#' also matches the parent: .../reply itself
  void t.subscribe('ops/inbox', 1);
  t.start();
  cleanups.push(() => t.end());
  await until(() => t.connected, 5000, () => 'requester connect');
  await sleep(150);                               // the SUBACKs
  return { t, got };
}

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-corr-'));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A device that answers every cmd at once with its route, or stores it when `hold` is set. */
function device(url: string, stateDir: string, hold?: CommandMessage[]): Telemetry {
  const tel = startTelemetry({
    fleet: 'lab', device: 'pi1', stateDir,
    mqtt: { url, reconnectMinMs: 50, reconnectMaxMs: 200 },
    model: () => ({ id: 'm', version: '1', hash: 'h' }), agentVersion: '0.1.0', reportIntervalMs: 3_600_000,
  });
  tel.publisher.onCommand((c) => {
    if (hold !== undefined) hold.push(c);
    else tel.publisher.reply(c.id, true, { cmd: c.cmd }, undefined, c.route);
  });
  cleanups.push(() => tel.stop(300));
  return tel;
}

async function ask(req: { t: Transport; got: Got[] }, id: string, props?: MessageProperties): Promise<Got> {
  await req.t.publish('edgenn/lab/pi1/cmd', JSON.stringify({ v: 1, id, cmd: 'ping' }), { qos: 1, ...(props !== undefined ? { properties: props } : {}) });
  await until(() => req.got.some((g) => g.body.id === id), 5000, () => `the reply to ${id}`);
  return req.got.find((g) => g.body.id === id)!;
}

describe('reply correlation', () => {
  it('MQTT 5 (mosquitto): same correlation data back; the response topic only under the device prefix', async () => {
    const mosq = await startMosquitto();
    cleanups.push(() => mosq.dispose());
    const req = await requester(mosq.url);
    expect(req.t.protocolVersion).toBe(5);
    const tel = device(mosq.url, tmp());
    await until(() => tel.transport.connected, 5000, () => 'device connect');
    await sleep(150);                                                 // the device's cmd SUBACK
    expect(tel.transport.protocolVersion).toBe(5);

    const c1 = randomBytes(16);
    const r1 = await ask(req, 'r1', { responseTopic: 'edgenn/lab/pi1/reply/req-1', correlationData: c1 });
    expect(r1.topic).toBe('edgenn/lab/pi1/reply/req-1');
    expect(r1.props.correlationData).toEqual(c1);
    expect(r1.body).toMatchObject({ v: 1, device: 'pi1', id: 'r1', ok: true, data: { cmd: 'ping' } });

    // A response topic outside the device's own prefix: the standard reply topic, still correlated.
    const c2 = randomBytes(8);
    const r2 = await ask(req, 'r2', { responseTopic: 'ops/inbox', correlationData: c2 });
    expect(r2.topic).toBe('edgenn/lab/pi1/reply');
    expect(r2.props.correlationData).toEqual(c2);
    const r2b = await ask(req, 'r2b', { responseTopic: 'edgenn/lab/pi2/reply/req-1', correlationData: c2 });
    expect(r2b.topic).toBe('edgenn/lab/pi1/reply');

    // No properties: the id alone, as on 3.1.1.
    const r3 = await ask(req, 'r3');
    expect(r3.topic).toBe('edgenn/lab/pi1/reply');
    expect(r3.props).toEqual({});
    await sleep(100);
    expect(req.got.filter((g) => g.topic === 'ops/inbox')).toEqual([]);
    expect(req.got.filter((g) => typeof g.body.id === 'string').map((g) => g.body.id)).toEqual(['r1', 'r2', 'r2b', 'r3']);
  });

  it('a reply queued while the broker is down is routed and correlated after the device restarts', async () => {
    const mosq = await startMosquitto();
    cleanups.push(() => mosq.dispose());
    const req = await requester(mosq.url);
    const dir = tmp();
    const held: CommandMessage[] = [];
    const telA = device(mosq.url, dir, held);
    await until(() => telA.transport.connected, 5000, () => 'device connect');
    await sleep(150);
    const corr = randomBytes(12);
    await req.t.publish('edgenn/lab/pi1/cmd', JSON.stringify({ v: 1, id: 'late', cmd: 'ping' }),
      { qos: 1, properties: { responseTopic: 'edgenn/lab/pi1/reply/req-9', correlationData: corr } });
    await until(() => held.length === 1, 5000, () => 'the cmd at the device');

    await mosq.stop();                                                  // broker gone: the reply can only queue
    await until(() => !telA.transport.connected, 5000, () => 'device sees the broker gone');
    telA.publisher.reply(held[0]!.id, true, { answered: 'offline' }, undefined, held[0]!.route);
    expect(telA.outbox.depth).toBeGreaterThanOrEqual(1);
    await telA.stop(100);                                               // the "restart": outbox closed durably

    await mosq.start();
    await until(() => req.t.connected, 5000, () => 'requester reconnect');
    await sleep(200);                                                   // its re-made subscriptions
    const telB = device(mosq.url, dir);                                 // same stateDir: same outbox
    await until(() => req.got.some((g) => g.body.id === 'late'), 5000, () => 'the queued reply');
    const r = req.got.filter((g) => g.body.id === 'late');
    expect(r).toHaveLength(1);
    expect(r[0]!.topic).toBe('edgenn/lab/pi1/reply/req-9');
    expect(r[0]!.props.correlationData).toEqual(corr);
    expect(r[0]!.body).toMatchObject({ ok: true, data: { answered: 'offline' } });
    await until(() => telB.outbox.depth === 0, 5000, () => 'outbox drained');
  });

  it('MQTT 3.1.1 (embedded aedes): properties cannot travel, the payload id correlates on the standard topic', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    cleanups.push(() => broker.close());
    const req = await requester(broker.url);
    expect(req.t.protocolVersion).toBe(4);
    const routes: CommandMessage['route'][] = [];
    const tel = device(broker.url, tmp());
    tel.publisher.onCommand((c) => routes.push(c.route));
    await until(() => tel.transport.connected, 5000, () => 'device connect');
    await sleep(150);
    expect(tel.transport.protocolVersion).toBe(4);
    // The requester asks for a route; on 3.1.1 its transport leaves the properties out.
    const r = await ask(req, 'v4', { responseTopic: 'edgenn/lab/pi1/reply/req-1', correlationData: Buffer.from('c') });
    expect(r.topic).toBe('edgenn/lab/pi1/reply');
    expect(r.props).toEqual({});
    expect(r.body).toMatchObject({ id: 'v4', ok: true });
    expect(routes).toEqual([{}]);
  });
});
