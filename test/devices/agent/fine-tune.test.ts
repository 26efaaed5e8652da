// Fine-tuning in the agent (fine-tuner.ts through startAgent, offline): the bounded sample
// buffer, a fine-tune that improves validation loss and is then served (and survives a restart
// through its checkpoint), automatic rollback of a run that produces NaN/Inf (a huge learning
// rate) or a worse validation loss, triggers by count and by schedule, and the training signals
// in the metrics record. Parameter comparisons are exact: a rollback restores float32 weights
// bit for bit from a checkpoint, and serving copies them unchanged.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../devices/agent/agent.js';
import { loadAgentConfig } from '../../../devices/agent/config.js';
import { SampleBuffer } from '../../../devices/agent/sample-buffer.js';
import { signArtifact } from '../../../devices/updates/artifact.js';
import { loadPrivateKey, writeSigningKeys } from '../../../devices/updates/signing.js';
import { FINE_TUNE, blobs, eventsOf, outboxRecords, until, work, type Work } from './support.js';

let w: Work;
const agents: Agent[] = [];
beforeEach(() => { w = work('edgenn-agent-ft-'); });
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  w.cleanup();
});

async function start(ft: Record<string, unknown>, over: Record<string, unknown> = {}): Promise<Agent> {
  const a = await startAgent(loadAgentConfig(w.config({ fineTune: { ...FINE_TUNE, ...ft }, ...over })));
  agents.push(a);
  return a;
}

function feed(a: Agent, n: number, seed: number): void {
  const { x, y } = blobs(n, seed);
  for (let i = 0; i < n; i++) a.port.addSample(x[i]!, y[i]!);
}

/** The outputs the agent serves for a fixed probe set (copied out of the output view). */
function probe(a: Agent): number[] {
  const { x } = blobs(6, 99);
  return x.flatMap((r) => Array.from(a.port.infer(r).subarray(0, 3)));
}

function ckpts(a: Agent): string[] {
  const root = path.join(a.config.stateDir, 'checkpoints');
  const [dir] = fs.readdirSync(root);
  return fs.readdirSync(path.join(root, dir!)).sort();
}

describe('sample buffer', () => {
  it('keeps the newest `capacity` samples, oldest first, and counts the dropped ones', () => {
    const b = new SampleBuffer({ capacity: 4, inputDims: [2], target: { kind: 'index', classes: 3 } });
    for (let i = 0; i < 6; i++) expect(b.push([i, -i], i % 3)).toBe(i < 4);
    expect({ count: b.count, dropped: b.dropped, added: b.added, fresh: b.fresh }).toEqual({ count: 4, dropped: 2, added: 6, fresh: 6 });
    const d = b.snapshot();
    expect(Array.from(d.x)).toEqual([2, -2, 3, -3, 4, -4, 5, -5]);
    expect(Array.from(d.y)).toEqual([2, 0, 1, 2]);
    b.markUsed();
    expect(b.fresh).toBe(0);
    expect(() => b.push([1], 0)).toThrow(/wrong length/);
    expect(() => b.push([1, NaN], 0)).toThrow(/not a finite number/);
    expect(() => b.push([1, 2], 1.5)).toThrow(/class index/);
    expect(b.count).toBe(4);
  });

  it('is bounded in the agent: overflow drops the oldest and is reported', async () => {
    const a = await start({ bufferSize: 40, minSamples: 10 });
    feed(a, 100, 1);
    expect(a.status().fineTune).toMatchObject({ buffered: 40, capacity: 40, dropped: 60, added: 100 });
  });
});

describe('fine-tune', () => {
  it('improves validation loss, serves the new weights, keeps checkpoints and resumes them after a restart', async () => {
    const a = await start({ epochs: 5, keepCheckpoints: 2 });
    const before = probe(a);
    expect(ckpts(a)).toEqual(['ckpt-00000000.ckpt']);                // the served weights, as #0
    feed(a, 90, 2);
    const out = await a.fineTune('command');
    expect(out).toMatchObject({ accepted: true, status: 'improved', trigger: 'command', samples: 90, trainSamples: 67, valSamples: 23 });  // round(90 * 0.25) = 23
    expect(out.steps).toBe(5 * Math.ceil(67 / 16));
    expect(out.valLossAfter!).toBeLessThan(out.valLossBefore!);
    const after = probe(a);
    expect(after).not.toEqual(before);
    // serving == the training compile's weights (copied by name, bit for bit)
    const tuner = (a as unknown as { status(): { fineTune: { lastGood: string } } }).status().fineTune;
    expect(tuner.lastGood).toBe('ckpt-00000001.ckpt');
    const ev = eventsOf(a.config.stateDir, 'fine-tuned');
    expect(ev).toHaveLength(1);
    expect(ev[0]!.data).toMatchObject({ status: 'improved', valLossBefore: out.valLossBefore, valLossAfter: out.valLossAfter });

    feed(a, 30, 3);
    await a.fineTune('command');
    feed(a, 30, 4);
    const third = await a.fineTune('command');
    expect(third.status).toBe('improved');
    expect(ckpts(a)).toEqual(['ckpt-00000002.ckpt', 'ckpt-00000003.ckpt']); // keepCheckpoints: 2
    const served = probe(a);
    await a.stop();
    agents.splice(agents.indexOf(a), 1);

    const b = await start({ epochs: 5, keepCheckpoints: 2 });
    expect(probe(b)).toEqual(served);                                 // resumed from the newest checkpoint
  });

  it('rolls back automatically when training produces NaN/Inf (huge lr) and reports it', async () => {
    const a = await start({ optimizer: { kind: 'sgd', lr: 1e30 } });
    feed(a, 60, 5);
    const before = probe(a);
    const out = await a.fineTune('command');
    expect(out).toMatchObject({ accepted: false, status: 'rolled-back', reason: 'non-finite', checkpoint: 'ckpt-00000000.ckpt' });
    expect(probe(a)).toEqual(before);                                // serving never saw the bad weights
    for (const v of probe(a)) expect(Number.isFinite(v)).toBe(true);
    const ev = eventsOf(a.config.stateDir, 'fine-tune-rolled-back');
    expect(ev).toHaveLength(1);
    expect(ev[0]!.data).toMatchObject({ status: 'rolled-back', reason: 'non-finite' });
    expect(a.status().fineTune).toMatchObject({ runs: 1, accepted: 0, rolledBack: 1 });
    expect(ckpts(a)).toEqual(['ckpt-00000000.ckpt']);

    // the training compile is back on the last good weights too: a sane run afterwards improves
    // on the original model, not on NaN
    const b = await (async () => { await a.stop(); agents.splice(agents.indexOf(a), 1); return start({ optimizer: { kind: 'sgd', lr: 0.1 } }); })();
    expect(probe(b)).toEqual(before);
  });

  it('rolls back a fine-tune that makes validation loss worse', async () => {
    // A large but finite learning rate overshoots: the validation loss ends higher, still finite
    // (seeded: the same split and order every run).
    const a = await start({ optimizer: { kind: 'sgd', lr: 40 }, epochs: 2 });
    feed(a, 60, 6);
    const before = probe(a);
    const out = await a.fineTune('command');
    expect(out.status).toBe('rolled-back');
    expect(out.reason).toBe('worse');
    expect(Number.isFinite(out.valLossAfter!)).toBe(true);
    expect(out.valLossAfter!).toBeGreaterThan(out.valLossBefore!);
    expect(probe(a)).toEqual(before);
    expect(eventsOf(a.config.stateDir, 'fine-tune-rolled-back')[0]!.data).toMatchObject({ reason: 'worse' });
  });

  it('a last good checkpoint damaged between runs: the next run restarts training from the served weights', async () => {
    const a = await start({ epochs: 2 });
    const before = probe(a);
    const root = path.join(a.config.stateDir, 'checkpoints');
    const dir = path.join(root, fs.readdirSync(root)[0]!);
    const f = path.join(dir, 'ckpt-00000000.ckpt');
    const b = fs.readFileSync(f);
    b[b.length - 20] ^= 0xff;                                      // the CRC no longer matches
    fs.writeFileSync(f, b);
    feed(a, 90, 12);
    const out = await a.fineTune('command');
    expect(out.status).not.toBe('skipped');
    expect(probe(a).length).toBe(before.length);
    // the damaged file was replaced by a fresh checkpoint of the served weights (+ the run's own)
    expect(ckpts(a).length).toBeGreaterThanOrEqual(2);
    for (const v of probe(a)) expect(Number.isFinite(v)).toBe(true);
  });

  it('skips with too few samples', async () => {
    const a = await start({ minSamples: 50 });
    feed(a, 49, 7);
    expect(await a.fineTune('command')).toMatchObject({ accepted: false, status: 'skipped', reason: 'too-few-samples', samples: 49 });
  });

  it('runs by itself when N new samples arrived, and on a schedule', async () => {
    const a = await start({ everyNewSamples: 40, minSamples: 30 });
    feed(a, 39, 8);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.status().fineTune).toMatchObject({ runs: 0 });
    feed(a, 1, 9);
    await until(() => (a.status().fineTune as { runs: number }).runs === 1 && !(a.status().fineTune as { running: boolean }).running, 10_000, () => 'a count-triggered run');
    expect((a.status().fineTune as { last: { trigger: string } }).last.trigger).toBe('count');

    const b = await start({ scheduleSec: 0.2, minSamples: 30 }, { stateDir: 'state2' });
    feed(b, 30, 10);
    await until(() => (b.status().fineTune as { runs: number }).runs >= 1, 10_000, () => 'a scheduled run');
    await until(() => !(b.status().fineTune as { running: boolean }).running, 10_000, () => 'the run to end');
    expect((b.status().fineTune as { last: { trigger: string } }).last.trigger).toBe('schedule');
    const runs = (b.status().fineTune as { runs: number }).runs;
    await new Promise((r) => setTimeout(r, 500));                 // no new samples: no new runs
    expect((b.status().fineTune as { runs: number }).runs).toBe(runs);
  });

  it('puts loss, accuracy and training health into the next metrics record', async () => {
    const a = await start({ epochs: 2 });
    feed(a, 60, 11);
    await a.fineTune('command');
    a.telemetry.publisher.flush();
    const m = outboxRecords(a.config.stateDir).filter((r) => r.kind === 'metrics').pop()!.body;
    expect(m.trainSteps).toBe(2 * Math.ceil(45 / 16));
    expect(typeof m.loss).toBe('number');
    expect(typeof m.accuracy).toBe('number');
    const h = m.health as { gradNorms: Record<string, number>; deadReluFraction: number };
    expect(Object.keys(h.gradNorms)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(h.deadReluFraction).toBeGreaterThanOrEqual(0);
    expect(m.arenaBytes as number).toBeGreaterThan(0);
  });

  it('names gradient norms after the served model, also after an update to a model with other layers', async () => {
    const keys = writeSigningKeys(w.p('keys'));
    const a = await start({ epochs: 1 }, { updates: { publicKeys: ['keys/signing.pub'] } });
    feed(a, 60, 12);
    await a.fineTune('command');
    // v2: a deeper 4 -> 8 -> 8 -> 3 model (parameters 0.*, 2.*, 4.*), same signature
    const deeper = JSON.stringify({
      format: 'edgenn-model', version: 1, input: { name: 'input', dims: [4] }, seed: 5,
      layers: [{ type: 'dense', out: 8 }, { type: 'relu' }, { type: 'dense', out: 8 }, { type: 'relu' }, { type: 'dense', out: 3 }],
    });
    const signed = signArtifact(new TextEncoder().encode(deeper), {
      modelId: 'blobs', version: '2.0.0', format: 'edgenn-json',
      inputs: [{ name: 'input', dims: [4] }], outputs: [{ name: '5', dims: [3] }],
    }, loadPrivateKey(keys.privatePath));
    await a.commands.update({ artifact: signed.bytes });
    expect(a.model.version).toBe('2.0.0');
    await a.fineTune('command');
    a.telemetry.publisher.flush();
    const ms = outboxRecords(a.config.stateDir).filter((r) => r.kind === 'metrics').map((r) => r.body);
    const withHealth = ms.filter((m) => m.health !== undefined);
    expect(withHealth).toHaveLength(2);
    // the first model's interval was closed at the swap, under its own model info and names
    expect((withHealth[0]!.model as { version: string }).version).toBe('1.0.0');
    expect(Object.keys((withHealth[0]!.health as { gradNorms: object }).gradNorms)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect((withHealth[1]!.model as { version: string }).version).toBe('2.0.0');
    const g = (withHealth[1]!.health as { gradNorms: Record<string, number> }).gradNorms;
    expect(Object.keys(g)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    for (const v of Object.values(g)) expect(Number.isFinite(v) && v >= 0).toBe(true);
    expect(a.telemetry.ring.layerNames).toEqual(Object.keys(g));
  });
});
