// The transport's own sockets (devices/telemetry/mqtt-stream.ts) against a real mosquitto: TLS
// with the broker's certificate verified against the configured CA (by host name and by IP
// address), mutual TLS with a client certificate, a mqtt:// URL upgraded to TLS by a client
// certificate (as mqtt.connect() does), refusals (an unknown CA, the system CAs, no client
// certificate where the broker requires one) that never connect, and user name / password taken
// from the URL. Certificates: test/fixtures/tls (make-certs.sh; a test CA, valid to 2126).
// Needs /usr/sbin/mosquitto (fails, never skips, without it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { brokerEndpoint } from '../../../devices/telemetry/mqtt-stream.js';
import { createMqttTransport, type Transport, type TransportOptions } from '../../../devices/telemetry/mqtt-transport.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';

const TLS = path.resolve(__dirname, '../../fixtures/tls');
const pem = (f: string): Buffer => fs.readFileSync(path.join(TLS, f));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const transports: Transport[] = [];
afterEach(async () => { for (const t of transports.splice(0)) await t.end(); });

/** A started transport and its log lines. */
function connect(o: Omit<TransportOptions, 'clientId'>): { t: Transport; logs: string[] } {
  const logs: string[] = [];
  const t = createMqttTransport({ clientId: `tls-${Math.random().toString(36).slice(2)}`, reconnectMinMs: 100, reconnectMaxMs: 300, connectTimeoutMs: 3000, log: (l) => logs.push(l), ...o });
  transports.push(t);
  t.start();
  return { t, logs };
}

let mtls: Mosquitto;   // TLS, client certificate required
let serverTls: Mosquitto; // TLS, no client certificate, user names and passwords
beforeAll(async () => {
  const tls = [`cafile ${path.join(TLS, 'ca.pem')}`, `certfile ${path.join(TLS, 'server.pem')}`, `keyfile ${path.join(TLS, 'server.key')}`];
  mtls = await startMosquitto({ extra: [...tls, 'require_certificate true'] });
  serverTls = await startMosquitto({ extra: tls, allowAnonymous: false, passwords: { dev: 'p@ss w/rd%' } });
});
afterAll(async () => { await mtls?.dispose(); await serverTls?.dispose(); });

describe('broker URLs', () => {
  it('parses TCP and TLS endpoints as mqtt.connect() does; ws: and wss: are left to mqtt.js', () => {
    expect(brokerEndpoint('mqtt://broker.local', false)).toEqual({ tls: false, host: 'broker.local', port: 1883 });
    expect(brokerEndpoint('tcp://10.0.0.2:1884', false)).toEqual({ tls: false, host: '10.0.0.2', port: 1884 });
    expect(brokerEndpoint('mqtts://broker.local', false)).toEqual({ tls: true, host: 'broker.local', port: 8883 });
    expect(brokerEndpoint('tls://[::1]:8884', false)).toEqual({ tls: true, host: '::1', port: 8884 });
    expect(brokerEndpoint('mqtt://broker.local', true)).toEqual({ tls: true, host: 'broker.local', port: 8883 });
    expect(brokerEndpoint('mqtt://u%40x:p%3Aw@h:1', false)).toEqual({ tls: false, host: 'h', port: 1, username: 'u@x', password: 'p:w' });
    expect(brokerEndpoint('ws://h:9001/mqtt', false)).toBeNull();
    expect(brokerEndpoint('wss://h/mqtt', true)).toBeNull();
    expect(() => brokerEndpoint('not a url', false)).toThrow();
  });
});

describe('TLS against mosquitto', () => {
  it('mutual TLS by host name: the broker is verified against the CA, the client certificate is accepted, QoS 1 is acknowledged', async () => {
    const { t } = connect({ url: `mqtts://localhost:${mtls.port}`, ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') });
    await until(() => t.connected, 8000, 'TLS connect');
    expect(t.protocolVersion).toBe(5);
    await t.publish('edgenn/lab/pi1/metrics', 'x', { qos: 1 });
  });

  it('by IP address (the certificate names 127.0.0.1), and a mqtt:// URL with a client certificate is TLS', async () => {
    const a = connect({ url: `mqtts://127.0.0.1:${mtls.port}`, ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') });
    const b = connect({ url: `mqtt://localhost:${mtls.port}`, ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') });
    await until(() => a.t.connected && b.t.connected, 8000, 'both connect');
    await b.t.publish('edgenn/lab/pi1/metrics', 'y', { qos: 1 });
  });

  it('refuses a broker whose certificate the CA did not sign (rogue CA, or the system CAs): never connects, says why', async () => {
    const rogue = connect({ url: `mqtts://localhost:${mtls.port}`, ca: pem('rogue-ca.pem'), cert: pem('client.pem'), key: pem('client.key') });
    const system = connect({ url: `mqtts://localhost:${mtls.port}`, cert: pem('client.pem'), key: pem('client.key') });
    for (const [what, c] of [['rogue CA', rogue], ['system CAs', system]] as const) {
      await until(() => /certificate/i.test(c.logs.join('\n')), 8000, `the certificate error (${what})`);
    }
    await sleep(500);
    expect(rogue.t.connected).toBe(false);
    expect(system.t.connected).toBe(false);
    await expect(rogue.t.publish('edgenn/lab/pi1/metrics', 'z', { qos: 1 })).rejects.toThrow();
  });

  it('a broker that requires a client certificate refuses a client without one', async () => {
    const { t } = connect({ url: `mqtts://localhost:${mtls.port}`, ca: pem('ca.pem') });
    await sleep(1500);
    expect(t.connected).toBe(false);
  });

  it('user name and password from the URL (percent-decoded) over TLS; a wrong password is refused', async () => {
    const good = connect({ url: `mqtts://dev:p%40ss%20w%2Frd%25@localhost:${serverTls.port}`, ca: pem('ca.pem') });
    const bad = connect({ url: `mqtts://dev:nope@localhost:${serverTls.port}`, ca: pem('ca.pem') });
    await until(() => good.t.connected, 8000, 'connect with URL credentials');
    const refusal = /Bad User Name or Password|Not authorized/i;
    await until(() => refusal.test(bad.logs.join('\n')), 8000, 'the broker refusing the wrong password');
    // a second attempt, after the back-off, is refused the same way
    await until(() => bad.logs.filter((l) => refusal.test(l)).length >= 2, 8000, 'a second refusal');
    expect(bad.t.connected).toBe(false);
    // mosquitto answered the MQTT 5 CONNECT with "bad user name or password": it speaks 5, so the
    // transport must not take the refusal for a 3.1.1-only broker and fall back for good
    expect(bad.logs.join('\n')).not.toContain('falling back to MQTT 3.1.1');
    expect(bad.logs.filter((l) => l.startsWith('connecting')).every((l) => l.includes('MQTT 5'))).toBe(true);
    // the URL's password never reaches a log line
    expect(good.logs.join('\n')).not.toContain('p%40ss');
    expect(good.logs.join('\n')).not.toContain('p@ss w/rd%');
  });

  it('options win over the URL\'s user info', async () => {
    const { t } = connect({ url: `mqtts://dev:nope@localhost:${serverTls.port}`, ca: pem('ca.pem'), username: 'dev', password: 'p@ss w/rd%' });
    await until(() => t.connected, 8000, 'connect with option credentials');
  });
});
