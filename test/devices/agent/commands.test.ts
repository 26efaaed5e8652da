// Commands over MQTT against a real mosquitto (MQTT 5): every command of commands.ts, replies
// correlated by id, malformed and unknown commands answered with an error (never a crash), and the
// signed-update path end to end: a signed artifact (inline base64 and by file reference) swaps the
// model; unsigned, wrongly signed, tampered and wrong-shape artifacts are rejected while the old
// model keeps serving; rollback; probation rolling back a model whose outputs turn non-finite.
// Needs /usr/sbin/mosquitto (fails, never skips, without it). Bounded waits throughout.
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../devices/agent/agent.js';
import { loadAgentConfig } from '../../../devices/agent/config.js';
import { createMqttTransport, type Transport } from '../../../devices/telemetry/mqtt-transport.js';
import { signArtifact, unsignedArtifact, type ManifestFields } from '../../../devices/updates/artifact.js';
import { generateSigningKeys, loadPrivateKey, writeSigningKeys, type PrivateKey } from '../../../devices/updates/signing.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { FINE_TUNE, blobs, listen, modelText, sleep, until, work, type Listener, type Work } from './support.js';

let mosq: Mosquitto;
let w: Work;
let agent: Agent;
let ops: Listener;
let sender: Transport;
let key: PrivateKey;

const SIG = { inputs: [{ name: 'input', dims: [4] }], outputs: [{ name: '3', dims: [3] }] };
function fields(version: string): ManifestFields {
  return { modelId: 'blobs', version, format: 'edgenn-json', ...SIG };
}
/** A model finite on inputs in [-1, 1] (what the smoke test feeds) and Inf on x = 4: relu(x - 1.5)
 * is 0 below 1.5, then a 3e38 weight overflows float32. */
function trapModel(): string {
  const eye = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  return JSON.stringify({
    format: 'edgenn-model', version: 1, input: { name: 'input', dims: [4] }, seed: 0,
    layers: [{ type: 'dense', out: 4, weight: eye, biasData: [-1.5, -1.5, -1.5, -1.5] }, { type: 'relu' },
      { type: 'dense', out: 3, weight: new Array(12).fill(3e38), biasData: [0, 0, 0] }],
  });
}

beforeAll(async () => {
  mosq = await startMosquitto();
  w = work('edgenn-agent-cmd-');
  const keys = writeSigningKeys(w.p('keys'));
  key = loadPrivateKey(keys.privatePath);
  fs.mkdirSync(w.p('artifacts'));
  agent = await startAgent(loadAgentConfig(w.config({
    broker: { url: mosq.url }, fineTune: FINE_TUNE,
    updates: { publicKeys: ['keys/signing.pub'], fileRoots: ['artifacts'] },
    probation: { inferences: 30, durationSec: 60, latencyFactor: 1000 },
  })));
  ops = await listen(mosq.url, 'edgenn/lab/#');
  sender = createMqttTransport({ url: mosq.url, clientId: 'cmd-sender', reconnectMinMs: 50 });
  sender.start();
  await until(() => sender.connected && agent.telemetry.transport.connected, 5000, () => 'connections');
  await sleep(200); // the agent's cmd SUBACK
});

afterAll(async () => {
  await agent?.stop();
  await sender?.end();
  await ops?.close();
  await mosq?.dispose();
  w?.cleanup();
});

let n = 0;
async function send(payload: string | Record<string, unknown>): Promise<Record<string, unknown>> {
  const body = typeof payload === 'string' ? payload : JSON.stringify({ v: 1, ...payload });
  const before = ops.of('reply').length;
  await sender.publish('edgenn/lab/pi1/cmd', body, { qos: 1 });
  await until(() => ops.of('reply').length > before, 20_000, () => `a reply to ${body.slice(0, 80)}`);
  return ops.of('reply')[before]!;
}
async function cmd(c: string, args?: unknown): Promise<Record<string, unknown>> {
  const id = `c${++n}`;
  const r = await send({ id, cmd: c, ...(args !== undefined ? { args } : {}) });
  expect(r.id).toBe(id);
  return r;
}
const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
const infer = (x: number[]): number[] => Array.from(agent.port.infer(x).subarray(0, 3));

describe('commands', () => {
  it('status: a correlated reply with the report, over MQTT 5', async () => {
    expect(agent.telemetry.transport.protocolVersion).toBe(5);
    const r = await cmd('status');
    expect(r).toMatchObject({ v: 1, device: 'pi1', ok: true, data: { device: 'pi1', fleet: 'lab', online: true, model: { id: 'blobs', version: '1.0.0' } } });
    expect(JSON.stringify(r)).not.toContain('password');
  });

  it('MQTT 5 correlation: the reply echoes the correlation data on the response topic (own prefix only)', async () => {
    const got: Array<{ topic: string; body: Record<string, unknown>; corr: Buffer | undefined }> = [];
    const req = createMqttTransport({ url: mosq.url, clientId: 'cmd-requester-v5', reconnectMinMs: 50 });
    req.onMessage((topic, payload, props) => {
      let body: Record<string, unknown>;
      try { body = JSON.parse(payload.toString()) as Record<string, unknown>; } catch { body = {}; }
      got.push({ topic, body, corr: props.correlationData });
    });
    void req.subscribe('edgenn/lab/pi1/reply/#', 1);
    req.start();
    try {
      await until(() => req.connected, 5000, () => 'requester connect');
      await sleep(150);
      expect(req.protocolVersion).toBe(5);
      const ask = async (body: string, props: { responseTopic?: string; correlationData: Buffer }, id: string): Promise<(typeof got)[number]> => {
        await req.publish('edgenn/lab/pi1/cmd', body, { qos: 1, properties: props });
        await until(() => got.some((g) => g.corr !== undefined && g.corr.equals(props.correlationData)), 5000, () => `reply ${id}`);
        return got.find((g) => g.corr !== undefined && g.corr.equals(props.correlationData))!;
      };
      const a = await ask(JSON.stringify({ v: 1, id: 'k1', cmd: 'status' }), { responseTopic: 'edgenn/lab/pi1/reply/ops-3', correlationData: Buffer.from('corr-k1') }, 'k1');
      expect(a).toMatchObject({ topic: 'edgenn/lab/pi1/reply/ops-3', body: { id: 'k1', ok: true, data: { device: 'pi1' } } });
      // malformed payloads are routed too: the properties are readable when the JSON is not
      const b = await ask('{{not json', { responseTopic: 'edgenn/lab/pi1/reply/ops-3', correlationData: Buffer.from([0, 1]) }, 'malformed');
      expect(b).toMatchObject({ topic: 'edgenn/lab/pi1/reply/ops-3', body: { id: '', ok: false, error: 'malformed command: payload is not valid JSON' } });
      // a command error, asking for a topic outside the device's prefix: the standard reply topic
      const c = await ask(JSON.stringify({ v: 1, id: 'k3', cmd: 'reboot' }), { responseTopic: 'edgenn/lab/pi2/reply', correlationData: Buffer.from('corr-k3') }, 'k3');
      expect(c).toMatchObject({ topic: 'edgenn/lab/pi1/reply', body: { id: 'k3', ok: false } });
      expect(agent.commandStats.malformed).toBe(1);
    } finally {
      await req.end();
    }
  });

  it('malformed and unknown commands get error replies, the agent keeps serving', async () => {
    expect(await send('not json at all')).toMatchObject({ id: '', ok: false, error: 'malformed command: payload is not valid JSON' });
    expect(await send('[1,2]')).toMatchObject({ id: '', ok: false, error: 'malformed command: payload is not a JSON object' });
    expect(await send({ id: 'no-cmd' })).toMatchObject({ id: 'no-cmd', ok: false, error: 'malformed command: "cmd" must be a string' });
    expect(await send({ id: 42, cmd: 'status' })).toMatchObject({ id: '', ok: false, error: 'malformed command: "id" must be a string' });
    expect(await cmd('reboot')).toMatchObject({ ok: false, error: expect.stringMatching(/^unknown command "reboot"; expected one of status, fine-tune-start/) as unknown });
    expect(await cmd('set-report-interval', { ms: 5 })).toMatchObject({ ok: false, error: expect.stringMatching(/bad ms; expected an integer in \[100, 86400000\], got 5/) as unknown });
    expect(await cmd('set-report-interval', { msec: 500 })).toMatchObject({ ok: false, error: expect.stringMatching(/unknown argument "msec"/) as unknown });
    expect(await cmd('status', 'x')).toMatchObject({ ok: false, error: 'status: args must be an object' });
    expect(await cmd('update', {})).toMatchObject({ ok: false, error: expect.stringMatching(/exactly one of artifact/) as unknown });
    expect(await cmd('update', { artifact: 'not base64!!' })).toMatchObject({ ok: false, error: 'update: artifact is not valid base64' });
    expect(infer([2, 0, 0, 0]).every(Number.isFinite)).toBe(true);
    expect(agent.commandStats.malformed).toBe(5);  // + 1 in the MQTT 5 correlation test
  });

  it('set-report-interval changes how often metrics arrive', async () => {
    expect(await cmd('set-report-interval', { ms: 150 })).toMatchObject({ ok: true, data: { reportIntervalMs: 150 } });
    const m0 = ops.of('metrics').length;
    await sleep(1000);
    const got = ops.of('metrics').length - m0;
    expect(got).toBeGreaterThanOrEqual(4);   // 1000 / 150 = 6.7 intervals; timers are loose
    expect(got).toBeLessThanOrEqual(8);
    await cmd('set-report-interval', { ms: 3_600_000 });
  });

  it('fine-tune-now / -stop / -start', async () => {
    const { x, y } = blobs(60, 21);
    for (let i = 0; i < 60; i++) agent.port.addSample(x[i]!, y[i]!);
    const r = await cmd('fine-tune-now');
    expect(r).toMatchObject({ ok: true, data: { accepted: true, status: 'improved', trigger: 'command', samples: 60 } });
    expect(await cmd('fine-tune-stop')).toMatchObject({ ok: true, data: { enabled: false } });
    expect(agent.status().fineTune).toMatchObject({ enabled: false });
    expect(await cmd('fine-tune-start')).toMatchObject({ ok: true, data: { enabled: true } });
    await until(() => ops.of('events').some((e) => e.type === 'fine-tuned'), 5000, () => 'fine-tuned event');
  });

  it('rejects unsigned, foreign-signed, tampered, truncated and wrong-shape artifacts; the old model keeps serving', async () => {
    const probeX = [0.5, -0.5, 0.25, 1];
    const before = infer(probeX);
    const good = new TextEncoder().encode(modelText(5));
    const cases: Array<[string, Uint8Array, RegExp]> = [];
    cases.push(['unsigned', unsignedArtifact(good, fields('2.0.0')).bytes, /artifact is unsigned/]);
    cases.push(['foreign key', signArtifact(good, fields('2.0.0'), generateSigningKeys().privateKey).bytes, /does not verify/]);
    const tampered = Uint8Array.from(signArtifact(good, fields('2.0.0'), key).bytes);
    tampered[tampered.length - 5] ^= 0x20;
    cases.push(['tampered model bytes', tampered, /sha256|hash|CHECKSUM|does not match/i]);
    const whole = signArtifact(good, fields('2.0.0'), key).bytes;
    cases.push(['truncated', whole.subarray(0, whole.length - 10), /truncated|length|short|DECODE|bytes/i]);
    const wide = JSON.stringify({ format: 'edgenn-model', version: 1, input: { name: 'input', dims: [5] }, seed: 1, layers: [{ type: 'dense', out: 3 }] });
    cases.push(['wrong shape', signArtifact(new TextEncoder().encode(wide), { ...fields('2.0.0'), inputs: [{ name: 'input', dims: [5] }] }, key).bytes, /signature\.input/]);
    for (const [what, bytes, re] of cases) {
      const r = await cmd('update', { artifact: b64(bytes) });
      expect(r.ok, what).toBe(false);
      expect(r.error as string, what).toMatch(re);
      expect(infer(probeX), what).toEqual(before);
      expect(agent.model.version, what).toBe('1.0.0');
    }
    await until(() => ops.of('events').filter((e) => e.type === 'update-rejected').length >= cases.length, 5000, () => 'update-rejected events');
    expect(fs.readdirSync(w.p('store/staging'))).toEqual([]);   // nothing staged survived
  });

  it('update (inline, then by file reference) swaps the model; rollback brings the previous one back', async () => {
    const probeX = [0.5, -0.5, 0.25, 1];
    const v1 = infer(probeX);
    const r = await cmd('update', { artifact: b64(signArtifact(new TextEncoder().encode(modelText(7)), fields('2.0.0'), key).bytes) });
    expect(r).toMatchObject({ ok: true, data: { from: { version: '1.0.0' }, to: { id: 'blobs', version: '2.0.0' } } });
    expect(agent.model.version).toBe('2.0.0');
    const v2 = infer(probeX);
    expect(v2).not.toEqual(v1);
    await until(() => ops.of('events').some((e) => e.type === 'model-swapped'), 5000, () => 'model-swapped event');

    const file = w.write('artifacts/v3.edgennup', signArtifact(new TextEncoder().encode(modelText(9)), fields('3.0.0'), key).bytes);
    expect(await cmd('update', { ref: pathToFileURL(file).href })).toMatchObject({ ok: true, data: { to: { version: '3.0.0' } } });
    const outside = w.write('v4.edgennup', signArtifact(new TextEncoder().encode(modelText(11)), fields('4.0.0'), key).bytes);
    expect(await cmd('update', { ref: pathToFileURL(outside).href })).toMatchObject({ ok: false, error: expect.stringMatching(/outside the allowed folders/) as unknown });

    expect(await cmd('rollback')).toMatchObject({ ok: true, data: { from: { version: '3.0.0' }, to: { version: '2.0.0' } } });
    expect(infer(probeX)).toEqual(v2);
    expect(await cmd('rollback')).toMatchObject({ ok: false, error: expect.stringMatching(/no previous model/) as unknown });
    expect(agent.model.version).toBe('2.0.0');
  });

  it('probation: a swapped-in model that outputs Inf is rolled back automatically', async () => {
    const probeX = [0.5, -0.5, 0.25, 1];
    const good = infer(probeX);
    const r = await cmd('update', { artifact: b64(signArtifact(new TextEncoder().encode(trapModel()), fields('5.0.0'), key).bytes) });
    expect(r).toMatchObject({ ok: true, data: { to: { version: '5.0.0' } } });   // passed the smoke test
    expect(agent.status().probation).toMatchObject({ inferences: 0, of: 30 });
    infer([0.1, 0.1, 0.1, 0.1]);                 // finite
    const bad = infer([4, 4, 4, 4]);             // Inf: probation fails
    expect(bad.some((v) => !Number.isFinite(v))).toBe(true);
    await until(() => agent.model.version === '2.0.0', 5000, () => `rollback, serving ${agent.model.version}`);
    expect(infer(probeX)).toEqual(good);
    await until(() => ops.of('events').some((e) => e.type === 'model-rolled-back' && (e.data as { reason: string }).reason === 'probation'), 5000, () => 'rollback event');
    const ev = ops.of('events').find((e) => e.type === 'model-rolled-back' && (e.data as { reason: string }).reason === 'probation')!;
    expect((ev.data as { detail: string }).detail).toMatch(/non-finite output/);
  });

  it('probation passes after N finite inferences and the store marks the model stable', async () => {
    const r = await cmd('update', { artifact: b64(signArtifact(new TextEncoder().encode(modelText(13)), fields('6.0.0'), key).bytes) });
    expect(r.ok).toBe(true);
    const { x } = blobs(30, 22);
    for (const row of x) infer(row);
    await until(() => ops.of('events').some((e) => e.type === 'probation-passed'), 5000, () => 'probation-passed');
    expect(agent.status()).toMatchObject({ probation: null, store: { state: 'stable', previous: '2.0.0' }, model: { version: '6.0.0' } });
  });
});
