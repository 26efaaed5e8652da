// The transport against real brokers: MQTT 5 with mosquitto 2, clean fallback to 3.1.1 with the
// embedded aedes broker (`edgenn broker`), end to end through the publisher; and secret redaction
// in logs, errors and telemetry. Needs /usr/sbin/mosquitto (fails, never skips, without it).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../../devices/telemetry/embedded-broker.js';
import { FleetMerge, attachFleetMerge } from '../../../devices/telemetry/fleet-merge.js';
import { createMqttTransport, type Transport } from '../../../devices/telemetry/mqtt-transport.js';
import { scanOutbox } from '../../../devices/telemetry/outbox.js';
import type { Telemetry } from '../../../devices/telemetry/publisher.js';
import { startTelemetry } from '../../../devices/telemetry/start-telemetry.js';
import { redactText, redactUrl, secretsOf } from '../../../devices/telemetry/redact.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

let mosq: Mosquitto;
beforeAll(async () => { mosq = await startMosquitto(); });
afterAll(async () => { await mosq?.dispose(); });

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-tel-'));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function observer(url: string, fleet: string): Promise<{ t: Transport; merge: FleetMerge }> {
  const t = createMqttTransport({ url, clientId: `obs-${Math.random().toString(36).slice(2)}`, reconnectMinMs: 50, reconnectMaxMs: 200 });
  const merge = new FleetMerge(fleet);
  await attachFleetMerge(t, merge);
  t.start();
  cleanups.push(() => t.end());
  await until(() => t.connected, 5000, 'observer connect');
  return { t, merge };
}

function telemetry(url: string, stateDir: string, extra: { password?: string; log?: (l: string) => void; urlOverride?: string } = {}): Telemetry {
  const tel = startTelemetry({
    fleet: 'lab', device: 'pi1', stateDir,
    mqtt: { url: extra.urlOverride ?? url, reconnectMinMs: 50, reconnectMaxMs: 200, username: 'dev',
      ...(extra.password !== undefined ? { password: extra.password } : {}) },
    model: () => ({ id: 'mnist', version: '7', hash: 'f00' }), agentVersion: '0.1.0',
    reportIntervalMs: 20,
    ...(extra.log !== undefined ? { log: extra.log } : {}),
  });
  cleanups.push(() => tel.stop(500));
  return tel;
}

describe('transport against real brokers', () => {
  it('speaks MQTT 5 to mosquitto and delivers metrics and the retained online status', async () => {
    const { merge } = await observer(mosq.url, 'lab');
    const tel = telemetry(mosq.url, tmp());
    await until(() => merge.counts.accepted >= 5, 5000, '5 records');
    expect(tel.transport.protocolVersion).toBe(5);
    const dev = merge.devices()[0]!;
    expect(dev).toMatchObject({ device: 'pi1', online: true, modelVersion: '7' });
  });

  it('falls back to MQTT 3.1.1 against the embedded aedes broker and still delivers', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    cleanups.push(() => broker.close());
    const { t: obs, merge } = await observer(broker.url, 'lab');
    expect(obs.protocolVersion).toBe(4);
    const logs: string[] = [];
    const tel = telemetry(broker.url, tmp(), { log: (l) => logs.push(l) });
    await until(() => merge.counts.accepted >= 5, 5000, '5 records via aedes');
    expect(tel.transport.protocolVersion).toBe(4);
    expect(logs.some((l) => l.includes('falling back to MQTT 3.1.1'))).toBe(true);
    expect(merge.devices()[0]).toMatchObject({ online: true });
    await tel.stop(500);                               // a clean stop publishes a retained offline
    await until(() => merge.devices()[0]!.online === false, 3000, 'offline status');
  });

  it('never lets a password or key reach logs, errors or telemetry', async () => {
    const secret = 'Pa55-s3cr3t-XYZ';
    const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretkeyline\n-----END PRIVATE KEY-----\n';
    expect(secretsOf({ password: secret, key, url: 'mqtt://u:p%40ss@h:1' })).toEqual(
      expect.arrayContaining([secret, 'p@ss', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretkeyline']));
    expect(redactText(`auth ${secret} failed`, [secret])).toBe('auth *** failed');
    expect(redactUrl(`mqtt://dev:${secret}@127.0.0.1:1883/`)).not.toContain(secret);

    // A broker that refuses everyone: a closed port, then mosquitto with anonymous access off.
    const strict = await startMosquitto({ extra: [] });
    cleanups.push(() => strict.dispose());
    fs.writeFileSync(path.join(strict.dir, 'mosquitto.conf'),
      fs.readFileSync(path.join(strict.dir, 'mosquitto.conf'), 'utf8').replace('allow_anonymous true', 'allow_anonymous false'));
    await strict.restart();
    const lines: string[] = [];
    const errors: string[] = [];
    for (const url of [`mqtt://dev:${secret}@${strict.url.slice('mqtt://'.length)}`, `mqtt://dev:${secret}@127.0.0.1:1`]) {
      const t = createMqttTransport({
        url, clientId: `dev-${secret}`, username: 'dev', password: secret, key,
        reconnectMinMs: 50, reconnectMaxMs: 100, log: (l) => lines.push(l),
      });
      t.start();
      await new Promise((r) => setTimeout(r, 400));
      await t.publish('x', 'y', { qos: 1 }).catch((e: Error) => errors.push(`${e.message} ${JSON.stringify(e)}`));
      await t.end();
    }
    const all = lines.concat(errors).join('\n');
    expect(lines.some((l) => /Not authorized|refused/i.test(l))).toBe(true); // the refusal was logged
    expect(lines.some((l) => l.includes('dev-***'))).toBe(true);             // scrubbing happened
    expect(all).not.toContain(secret);
    expect(all).not.toContain('secretkeyline');

    // telemetry: the state on disk and what the fleet receives carry no secret either
    const { merge } = await observer(mosq.url, 'lab');
    const seen: string[] = [];
    merge.onRecord((r) => seen.push(JSON.stringify(r.record)));
    const dir = tmp();
    const tel = telemetry(mosq.url, dir, { password: secret, log: (l) => lines.push(l) });
    await until(() => seen.length >= 3, 5000, 'records');
    await tel.stop(500);
    const files = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : [path.join(d, e.name)]));
    const disk = files(dir).map((f) => fs.readFileSync(f, 'latin1')).join('\n');
    expect(seen.join('\n') + disk + lines.join('\n')).not.toContain(secret);
    expect(scanOutbox(path.join(dir, 'outbox')).payloads.length).toBe(0); // all delivered by stop
  });
});
