// Nothing lost across kill -9 of the publishing process: a child publisher (child-publisher.ts,
// bundled with esbuild) writes to an outbox directory; the broker goes down so records pile up on
// disk; the child is SIGKILLed; a second child starts on the same state directory while the broker
// is still down; the broker comes back. Every record made must reach the fleet observer exactly
// once after de-duplication, in order, with seqs increasing across the restart.
// Also: the Last Will marks a SIGKILLed, connected device offline (retained).
// Needs /usr/sbin/mosquitto (fails, never skips, without it). Bounded waits throughout.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanOutbox } from '../../../devices/telemetry/outbox.js';
import { decodeOutboxPayload } from '../../../devices/telemetry/schema.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { bundleChild, persistentObserver, sleep, until, type Observer } from './support.js';

let mosq: Mosquitto;
let child: { file: string; dir: string };
let work = '';
const procs: ChildProcess[] = [];

beforeAll(async () => {
  mosq = await startMosquitto({ persistence: true, maxQueuedMessages: 1_000_000 });
  child = await bundleChild();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-kill9-'));
});

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await mosq?.dispose();
  if (child !== undefined) fs.rmSync(child.dir, { recursive: true, force: true });
  if (work !== '') fs.rmSync(work, { recursive: true, force: true });
});

interface Child { p: ChildProcess; out: () => string; exited: Promise<number | null> }

function runChild(args: object): Child {
  let out = '';
  const p = spawn(process.execPath, [child.file, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  procs.push(p);
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  return { p, out: () => out, exited };
}

function ledgerSeqs(file: string): number[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('metrics ')).map((l) => Number(l.slice(8)));
}

async function killAndWait(c: Child): Promise<void> {
  c.p.kill('SIGKILL');
  const r = await Promise.race([c.exited.then(() => true), sleep(5000).then(() => false)]);
  if (!r) throw new Error('child survived SIGKILL for 5 s');
}

describe('kill -9 of the publisher', () => {
  it('loses nothing: records piled up in the outbox are delivered after a restart', async () => {
    const stateDir = path.join(work, 'state');
    const ledger = path.join(work, 'ledger.txt');
    const obs: Observer = await persistentObserver(mosq.url, 'lab', 'fleet-observer-kill9');
    const got = (): number[] => obs.accepted.get('k9') ?? [];

    // 1. child A publishes while the broker is up
    const a = runChild({ url: mosq.url, stateDir, ledger, device: 'k9', intervalMs: 2, count: 0 });
    await until(() => got().length >= 100, 10_000, () => `100 records from child A (got ${got().length}); child: ${a.out()}`);

    // 2. broker down: records pile up in A's outbox
    await mosq.stop();
    const atStop = ledgerSeqs(ledger).length;
    await until(() => ledgerSeqs(ledger).length >= atStop + 300, 10_000, () => 'records piling up in child A');

    // 3. kill -9 A mid-run; what it made = its ledger + whatever the outbox holds past the cursor
    //    (a record appended in the same tick as the kill may miss its ledger line, never its ack)
    await killAndWait(a);
    const ledgerA = ledgerSeqs(ledger);
    const dump = scanOutbox(path.join(stateDir, 'outbox'));
    const pendingA = dump.payloads.map((p) => decodeOutboxPayload(p)!).filter((d) => d.kind === 'metrics')
      .map((d) => (JSON.parse(d.body.toString()) as { seq: number }).seq);
    const madeA = new Set([...ledgerA, ...pendingA]);
    expect(madeA.size - ledgerA.length).toBeLessThanOrEqual(1);
    expect(pendingA.length).toBeGreaterThanOrEqual(300);     // the pile-up really was on disk
    const maxA = Math.max(...madeA);

    // 4. child B on the same state dir, broker still down, then the broker returns
    const COUNT_B = 400;
    const b = runChild({ url: mosq.url, stateDir, ledger, device: 'k9', intervalMs: 2, count: COUNT_B });
    await until(() => ledgerSeqs(ledger).length >= ledgerA.length + 100, 10_000, () => `child B records; child: ${b.out()}`);
    await mosq.start();
    const code = await Promise.race([b.exited, sleep(30_000).then(() => 'timeout' as const)]);
    expect(code, `child B: ${b.out()}`).toBe(0);

    const all = ledgerSeqs(ledger);
    const seqsB = all.slice(ledgerA.length);
    expect(seqsB.length).toBe(COUNT_B);
    const made = new Set([...madeA, ...seqsB]);
    await until(() => got().length >= made.size, 10_000, () => `all ${made.size} records at the observer (got ${got().length})`);

    const accepted = got();
    const received = new Set(accepted);
    const lost = [...made].filter((s) => !received.has(s));
    const extra = [...received].filter((s) => !made.has(s));
    const raw = obs.raw.get('k9') ?? [];
    console.log(`[kill9] made ${made.size} (A ${madeA.size}, of which ${pendingA.length} pending on disk at kill; B ${seqsB.length}), ` +
      `received ${raw.length} raw, ${raw.length - accepted.length} duplicates removed, lost ${lost.length}, ` +
      `seq A max ${maxA} -> B min ${Math.min(...seqsB)}, outbox recovery on restart: ${b.out().split('\n')[0]}`);
    expect(lost).toEqual([]);
    expect(extra).toEqual([]);
    expect(accepted.length).toBe(made.size);                 // exactly once after de-dup
    for (let i = 1; i < accepted.length; i++) expect(accepted[i]!).toBeGreaterThan(accepted[i - 1]!); // in order
    expect(Math.min(...seqsB)).toBeGreaterThan(maxA);          // monotonic across the restart
    await obs.t.end();
  });

  it('the Last Will turns a SIGKILLed, connected device offline (retained)', async () => {
    const obs = await persistentObserver(mosq.url, 'lab', 'fleet-observer-will');
    const c = runChild({ url: mosq.url, stateDir: path.join(work, 'will'), ledger: path.join(work, 'will.txt'), device: 'w1', intervalMs: 20, count: 0 });
    const row = () => obs.merge.devices().find((d) => d.device === 'w1');
    await until(() => row()?.online === true, 10_000, () => `w1 online; child: ${c.out()}`);
    await killAndWait(c);
    await until(() => row()?.online === false, 5000, () => 'w1 offline via the will');
    // a new observer sees the retained offline status too
    const late = await persistentObserver(mosq.url, 'lab', 'fleet-observer-late');
    await until(() => late.merge.devices().some((d) => d.device === 'w1' && d.online === false), 5000, () => 'retained offline');
    await obs.t.end();
    await late.t.end();
  });
});
