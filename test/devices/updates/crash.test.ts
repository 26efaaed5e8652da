// Crash safety of model updates: a child process (crash-child.ts, bundled with esbuild) runs a real
// update against a model store and is SIGKILLed
//   (a) right after every durable step k of the sequence, for every k, in three sequences (first
//       install on an empty store; update + keep; update + rollback), via EDGENN_TEST_KILL_AT_STEP;
//   (b) at random times while it loops over updates, keeps and rollbacks, each run continuing from
//       the state the previous kill left (seeded PRNG, so a failure is reproducible).
// After every kill, recover() in this process must yield a model whose bytes hash to its manifest,
// decode and run with finite outputs (the agent's check), and that is one of the versions that
// were installed — in (a) exactly the old one before CURRENT's rename and the new one after it.
// The store must also be clean (no staging leftovers, no unreferenced versions) and accept a new
// update. No tolerances: the checks are exact.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signArtifact } from '../../../devices/updates/artifact.js';
import { generateSigningKeys } from '../../../devices/updates/signing.js';
import { ModelStore, POINTER_FILE, type StoreStep } from '../../../devices/updates/store.js';
import { installUpdate } from '../../../devices/updates/update.js';
import { agentCheck, bundleScript, fieldsFor, jsonModel, sha256, tempDir } from './support.js';

const keys = generateSigningKeys();
const install = { publicKeys: [keys.publicKey], agentVersion: '0.1.0', check: agentCheck };
let child: { file: string; dir: string };
let work = '';
const procs: ChildProcess[] = [];
/** version -> sha256 of its model bytes, for every version any test installs */
const known = new Map<string, string>();
const artifactFile = new Map<string, string>();
let template = '';
let emptyTemplate = '';
let localModel = '';
let pubFile = '';
const CHUNK = 512;
/** ~60 child processes per test; generous for a loaded CI machine (alone each takes 5-12 s) */
const TIMEOUT_MS = 180_000;
const figures: string[] = [];

function model(version: string, seed: number, hidden: number): Uint8Array {
  const m = jsonModel(seed, hidden);
  known.set(version, sha256(m));
  return m;
}

beforeAll(async () => {
  child = await bundleScript('crash-child.ts');
  work = tempDir('edgenn-crash-');
  pubFile = path.join(work, 'signing.pub');
  fs.writeFileSync(pubFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const m0 = model('0', 100, 8);
  const m1 = model('1', 101, 8);
  const lm = model('local', 102, 32);
  localModel = path.join(work, 'local.json');
  fs.writeFileSync(localModel, lm);
  // the updates: large enough to be written in several chunks
  for (const [v, seed] of [['2', 200], ['3', 300], ['4', 400], ['5', 500], ['6', 600]] as const) {
    const m = model(v, seed, 32);
    const f = path.join(work, `v${v}.edgennup`);
    fs.writeFileSync(f, signArtifact(m, fieldsFor(m, v), keys.privateKey).bytes);
    artifactFile.set(v, f);
  }
  // template: current 1 (signed, stable), previous 0 (local)
  template = path.join(work, 'template');
  const { store } = ModelStore.open(template);
  const s = store.stageLocal(m0, fieldsFor(m0, '0'));
  await store.validate(s, agentCheck);
  store.commit(s);
  store.markStable();
  await installUpdate(store, signArtifact(m1, fieldsFor(m1, '1'), keys.privateKey).bytes, install);
  store.markStable();
  emptyTemplate = path.join(work, 'empty');
  fs.mkdirSync(emptyTemplate);
});

afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  if (child !== undefined) fs.rmSync(child.dir, { recursive: true, force: true });
  if (work !== '') fs.rmSync(work, { recursive: true, force: true });
  if (figures.length > 0) process.stdout.write(`[crash figures]\n${figures.join('\n')}\n`);
});

interface Run { code: number | null; signal: NodeJS.Signals | null; out: string }
interface Started { p: ChildProcess; ready: Promise<void>; done: Promise<Run> }

function start(args: object, killAt: number): Started {
  const p = spawn(process.execPath, [child.file, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGENN_TEST_KILL_AT_STEP: String(killAt) },
  });
  procs.push(p);
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => { onReady = r; });
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready\n')) onReady(); });
  p.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<Run>((r) => p.once('exit', (code, signal) => { onReady(); r({ code, signal, out }); }));
  return { p, ready, done };
}

function readLog(file: string): StoreStep[] {
  return fs.existsSync(file) ? (fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') as StoreStep[]) : [];
}

/** recover() and every check of a served model; returns the store and the version served. */
async function checkRecovered(dir: string, what: string): Promise<{ store: ModelStore; version: string | null; state: string | null }> {
  const { store, report } = ModelStore.open(dir);
  const c = report.current;
  if (c !== null) {
    const bytes = store.readModel(c);
    expect(sha256(bytes), what).toBe(c.manifest.sha256);
    expect(known.get(c.manifest.version), `${what}: served version ${c.manifest.version} is one that was installed`).toBe(c.manifest.sha256);
    await agentCheck(bytes, c.manifest); // decodes, shapes, finite smoke inference
    const ptr = JSON.parse(fs.readFileSync(path.join(dir, POINTER_FILE), 'utf8')) as { current: string; previous: string | null };
    expect(ptr.current, what).toBe(c.file);
    const referenced = [ptr.current, ...(ptr.previous !== null ? [ptr.previous] : [])].sort();
    expect(fs.readdirSync(path.join(dir, 'versions')).sort(), `${what}: only referenced versions remain`).toEqual(referenced);
  } else {
    expect(fs.existsSync(path.join(dir, POINTER_FILE)), what).toBe(false);
  }
  expect(fs.readdirSync(path.join(dir, 'staging')), `${what}: staging cleaned`).toEqual([]);
  expect(fs.existsSync(path.join(dir, '.CURRENT.tmp')), what).toBe(false);
  return { store, version: c?.manifest.version ?? null, state: report.state };
}

const SEQUENCES = [
  // mode, start from, [old version, new version, version after the second pointer rename]
  { mode: 'first-install', from: (): string => emptyTemplate, old: null, fresh: 'local', final: 'local' },
  { mode: 'update-keep', from: (): string => template, old: '1', fresh: '2', final: '2' },
  { mode: 'update-rollback', from: (): string => template, old: '1', fresh: '2', final: '1' },
] as const;

describe('SIGKILL during an update', () => {
  let total = 0;
  for (const seq of SEQUENCES) {
    it(`${seq.mode}: killed after every step, recover() serves the old or the new model`, async () => {
      const args = (dir: string, log: string): object => ({ store: dir, pub: pubFile, artifacts: [artifactFile.get('2')], mode: seq.mode, chunk: CHUNK, log, local: localModel });
      // dry run: the step list of the whole sequence
      const dryDir = path.join(work, `${seq.mode}-dry`);
      fs.cpSync(seq.from(), dryDir, { recursive: true });
      const dry = await start(args(dryDir, path.join(work, `${seq.mode}-dry.log`)), 0).done;
      expect(dry.code, dry.out).toBe(0);
      const steps = JSON.parse(/steps (.*)\n/.exec(dry.out)![1]!) as StoreStep[];
      const renames = steps.map((s, i) => (s === 'pointer:rename' ? i + 1 : -1)).filter((i) => i > 0);
      expect(renames).toHaveLength(2); // commit, then markStable / rollback
      expect(steps.filter((s) => s === 'stage:chunk').length).toBeGreaterThanOrEqual(3);
      const [commitAt, secondAt] = renames as [number, number];
      // On an empty store there is no CURRENT yet: once the validated file is in versions/,
      // recover() serves it (the newest valid version) even before CURRENT names it.
      const inVersionsAt = steps.indexOf('commit:rename') + 1;
      // kill points are independent (own folder each): run them 4 at a time
      const one = async (k: number): Promise<void> => {
        const dir = path.join(work, `${seq.mode}-k${k}`);
        const log = path.join(work, `${seq.mode}-k${k}.log`);
        fs.cpSync(seq.from(), dir, { recursive: true });
        const r = await start(args(dir, log), k).done;
        expect(r.signal, `k=${k} ${r.out}`).toBe('SIGKILL');
        expect(readLog(log), `k=${k}: killed right after step ${steps[k - 1]}`).toEqual(steps.slice(0, k));
        const what = `${seq.mode}, killed after step ${k} (${steps[k - 1]})`;
        const { store, version, state } = await checkRecovered(dir, what);
        const old = seq.old === null && k >= inVersionsAt ? seq.fresh : seq.old;
        const expected = k < commitAt ? old : k < secondAt ? seq.fresh : seq.final;
        expect(version, what).toBe(expected);
        if (version !== null && k >= commitAt) expect(state, what).toBe(k < secondAt ? 'probation' : 'stable');
        // the store is usable afterwards
        const next = await installUpdate(store, fs.readFileSync(artifactFile.get('3')!), install);
        expect(next.installed.manifest.version).toBe('3');
        expect((await checkRecovered(dir, `${what}, then updated`)).version).toBe('3');
        fs.rmSync(dir, { recursive: true, force: true });
        total++;
      };
      for (let k = 1; k <= steps.length; k += 4) {
        await Promise.all([k, k + 1, k + 2, k + 3].filter((j) => j <= steps.length).map(one));
      }
      figures.push(`${seq.mode}: ${steps.length} kill points (${steps.join(' ')})`);
    }, TIMEOUT_MS);
  }

  it('random-timed kills of a looping updater, each run resuming from the state the last kill left', async () => {
    const dir = path.join(work, 'random');
    fs.cpSync(template, dir, { recursive: true });
    const loopArts = ['3', '4', '5', '6'].map((v) => artifactFile.get(v));
    let seed = 0x5eed1234;
    const rnd = (): number => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 32; };
    const RUNS = 40;
    const landed = new Map<string, number>();
    let completedSteps = 0;
    for (let i = 0; i < RUNS; i++) {
      const log = path.join(work, `random-${i}.log`);
      const s = start({ store: dir, pub: pubFile, artifacts: loopArts, mode: 'loop', chunk: CHUNK, log }, 0);
      // half the kills are timed from spawn (can land in startup/recover), half after ready
      if (i % 2 === 0) await s.ready;
      await new Promise((r) => setTimeout(r, i % 2 === 0 ? Math.floor(rnd() * 60) : 100 + Math.floor(rnd() * 250)));
      s.p.kill('SIGKILL');
      const r = await s.done;
      expect(r.signal, r.out).toBe('SIGKILL');
      const steps = readLog(log);
      completedSteps += steps.length;
      const last = steps.length === 0 ? '(before any step)' : `after ${steps[steps.length - 1]}`;
      landed.set(last, (landed.get(last) ?? 0) + 1);
      const { version } = await checkRecovered(dir, `random kill ${i} (${last})`);
      expect(version).not.toBeNull();
      total++;
    }
    figures.push(`random: ${RUNS} kills, ${completedSteps} store steps completed across runs; kills landed: ` +
      [...landed.entries()].map(([k, n]) => `${k} x${n}`).join(', '));
    figures.push(`total kill points exercised: ${total}`);
    // the kills must actually have hit updates in progress, not only idle moments
    expect(completedSteps).toBeGreaterThan(RUNS);
    expect(landed.size).toBeGreaterThanOrEqual(4);
  }, TIMEOUT_MS);
});
