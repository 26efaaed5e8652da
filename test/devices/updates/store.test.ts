// The model store: stage → validate → commit, markStable, rollback, and recover() repairing every
// state a crash or a damaged disk can leave. Also: an update refused at any stage (signature,
// tampering, truncation, agent version, wrong shape, non-finite smoke inference) leaves the store
// folder byte-for-byte unchanged and the old model served. Exact checks only (no tolerances).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EdgennError } from '../../../runtime/errors.js';
import { signArtifact, unsignedArtifact, type ManifestFields } from '../../../devices/updates/artifact.js';
import { generateSigningKeys } from '../../../devices/updates/signing.js';
import { ModelStore, POINTER_FILE } from '../../../devices/updates/store.js';
import { installUpdate, type InstallOptions } from '../../../devices/updates/update.js';
import { stringifyJsonModel } from '../../../importers/json-model.js';
import { agentCheck, fieldsFor, jsonModel, sha256, snapshot, tempDir } from './support.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });
function freshDir(): string {
  const d = tempDir('edgenn-store-');
  dirs.push(d);
  return d;
}

const keys = generateSigningKeys();
const m0 = jsonModel(0);
const m1 = jsonModel(1);
const m2 = jsonModel(2);
const art = (m: Uint8Array, version: string, extra: Partial<ManifestFields> = {}): Uint8Array =>
  signArtifact(m, fieldsFor(m, version, extra), keys.privateKey).bytes;
const install: InstallOptions = { publicKeys: [keys.publicKey], agentVersion: '0.1.0', check: agentCheck };

/** A store holding m0 (local, stable) then m1 (signed, stable): current m1, previous m0. */
async function twoVersionStore(): Promise<{ dir: string; store: ModelStore }> {
  const dir = freshDir();
  const { store, report } = ModelStore.open(dir);
  expect(report.current).toBeNull();
  const s = store.stageLocal(m0, fieldsFor(m0, '0'));
  await store.validate(s, agentCheck);
  store.commit(s);
  store.markStable();
  await installUpdate(store, art(m1, '1'), install);
  store.markStable();
  return { dir, store };
}

function pointer(dir: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(dir, POINTER_FILE), 'utf8')) as Record<string, unknown>;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EdgennError) return e.code;
    throw e;
  }
  return 'ACCEPTED';
}

describe('update sequence', () => {
  it('first install, update, probation state, stable, reopen', async () => {
    const dir = freshDir();
    const { store } = ModelStore.open(dir);
    const s = store.stageLocal(m0, fieldsFor(m0, '0'));
    expect(fs.readdirSync(path.join(dir, 'staging'))).toEqual([s.file]);
    await expect(Promise.resolve().then(() => store.commit(s))).rejects.toThrow(/commit before validate/);
    await store.validate(s, agentCheck);
    const c0 = store.commit(s);
    expect(c0.signed).toBe(false);
    expect(store.state()).toBe('probation');
    expect(fs.readdirSync(path.join(dir, 'staging'))).toEqual([]);
    const r = await installUpdate(store, art(m1, '1'), install);
    expect(r.replaced?.version).toBe('0');
    expect(r.installed.manifest.version).toBe('1');
    expect(r.installed.signed).toBe(true);
    expect(Buffer.from(store.readModel(r.installed)).equals(Buffer.from(m1))).toBe(true);
    expect(store.previous()?.version).toBe('0');
    expect(pointer(dir)).toMatchObject({ v: 1, current: r.installed.file, previous: c0.file, state: 'probation', boots: 0 });
    store.markStable();
    expect(pointer(dir).state).toBe('stable');
    const again = ModelStore.open(dir);
    expect(again.report.current?.manifest.version).toBe('1');
    expect(again.report.previous?.version).toBe('0');
    expect(again.report.actions).toEqual([]);
    expect(again.report.boots).toBe(0);
    expect(sha256(again.store.readModel(again.report.current!))).toBe(sha256(m1));
  });

  it('a third version drops the oldest; rollback returns to the previous and forgets the rolled-back one', async () => {
    const { dir, store } = await twoVersionStore();
    const before = fs.readdirSync(path.join(dir, 'versions')).sort();
    expect(before).toHaveLength(2);
    await installUpdate(store, art(m2, '2'), install);
    const after = fs.readdirSync(path.join(dir, 'versions')).sort();
    expect(after).toHaveLength(2);
    expect(after[0]).toBe(before[1]); // m1's file stays as previous, m0's is gone
    const back = store.rollback();
    expect(back.manifest.version).toBe('1');
    expect(sha256(store.readModel(back))).toBe(sha256(m1));
    expect(fs.readdirSync(path.join(dir, 'versions'))).toEqual([before[1]]);
    expect(pointer(dir)).toMatchObject({ current: before[1], previous: null, state: 'stable' });
    expect(() => store.rollback()).toThrow(/no previous model/);
    expect(ModelStore.open(dir).report.current?.manifest.version).toBe('1');
  });

  it('commit and validate refuse a staged update that was replaced or already committed', async () => {
    const { store } = await twoVersionStore();
    const a = store.stageLocal(m2, fieldsFor(m2, '2a'));
    const b = store.stageLocal(m2, fieldsFor(m2, '2b'));
    await expect(store.validate(a, agentCheck)).rejects.toThrow(/not the staged update/);
    await store.validate(b, agentCheck);
    store.commit(b);
    expect(() => store.commit(b)).toThrow(EdgennError);
  });
});

describe('refused updates write nothing and keep the old model', () => {
  const cases: [string, () => Uint8Array, string][] = [
    ['unsigned', () => unsignedArtifact(m2, fieldsFor(m2, '2')).bytes, 'SIGNATURE'],
    ['wrong key', () => signArtifact(m2, fieldsFor(m2, '2'), generateSigningKeys().privateKey).bytes, 'SIGNATURE'],
    ['tampered model byte', () => { const b = Uint8Array.from(art(m2, '2')); b[b.length - 5] ^= 1; return b; }, 'CHECKSUM'],
    ['tampered manifest byte', () => { const b = Uint8Array.from(art(m2, '2')); b[30] ^= 1; return b; }, 'SIGNATURE'],
    ['truncated', () => art(m2, '2').subarray(0, 200), 'DECODE'],
    ['minAgentVersion too high', () => art(m2, '2', { minAgentVersion: '9.0.0' }), 'UNSUPPORTED'],
    ['wrong input shape (agent check)', () => {
      const spec = { format: 'edgenn-model', version: 1, input: { name: 'input', dims: [3] }, seed: 0, layers: [{ type: 'dense', out: 3 }] };
      const m = Buffer.from(JSON.stringify(spec));
      return art(m, '2', fieldsFor(m, '2'));
    }, 'SHAPE'],
    ['non-finite smoke inference (agent check)', () => {
      const m = Buffer.from(stringifyJsonModel({
        format: 'edgenn-model', version: 1, input: { name: 'input', dims: [2] }, seed: 0,
        layers: [{ type: 'dense', out: 3, weight: [3e38, 3e38, 3e38, 3e38, 3e38, 3e38], biasData: [3e38, 3e38, 3e38] }],
      }));
      return art(m, '2', fieldsFor(m, '2'));
    }, 'DATA'],
  ];
  for (const [name, make, code] of cases) {
    it(name, async () => {
      const { dir, store } = await twoVersionStore();
      const before = snapshot(dir);
      expect(await codeOf(installUpdate(store, make(), install))).toBe(code);
      expect(snapshot(dir)).toEqual(before);
      expect(store.current()?.manifest.version).toBe('1');
      expect(ModelStore.open(dir).report.current?.manifest.version).toBe('1');
    });
  }
});

describe('readModel: the served model\'s bytes, read back and verified', () => {
  it('holds no bytes in the StoredModel; readModel returns them, verified against the manifest', async () => {
    const { store } = await twoVersionStore();
    const cur = store.current()!;
    expect(Object.keys(cur).sort()).toEqual(['file', 'generation', 'manifest', 'signed']);
    expect(Buffer.from(store.readModel(cur)).equals(Buffer.from(m1))).toBe(true);
  });

  it('a file damaged after loading is refused with CHECKSUM naming it; a deleted one with IO', async () => {
    const { dir, store } = await twoVersionStore();
    const cur = store.current()!;
    const f = path.join(dir, 'versions', cur.file);
    const good = fs.readFileSync(f);
    const bad = Buffer.from(good);
    bad[bad.length - 10] ^= 0x20;
    fs.writeFileSync(f, bad);
    let err: unknown;
    try { store.readModel(cur); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(EdgennError);
    expect((err as EdgennError).code).toBe('CHECKSUM');
    expect((err as EdgennError).message).toContain(f);
    fs.rmSync(f);
    expect(() => store.readModel(cur)).toThrow(/cannot be read back: missing/);
    fs.writeFileSync(f, good);
    expect(Buffer.from(store.readModel(cur)).equals(Buffer.from(m1))).toBe(true);
  });

  it('a file that now holds another valid model is refused: it is not the model that was loaded', async () => {
    const { dir, store } = await twoVersionStore();
    const cur = store.current()!;
    const other = ModelStore.open(freshDir()).store;
    const s = other.stageLocal(m2, fieldsFor(m2, cur.manifest.version));
    await other.validate(s, agentCheck);
    const c2 = other.commit(s);
    fs.copyFileSync(path.join(other.root, 'versions', c2.file), path.join(dir, 'versions', cur.file));
    expect(() => store.readModel(cur)).toThrow(/holds another model/);
  });
});

describe('recover', () => {
  it('falls back to the previous model when the current file is damaged, and deletes it', async () => {
    const { dir } = await twoVersionStore();
    const cur = pointer(dir).current as string;
    const f = path.join(dir, 'versions', cur);
    const b = fs.readFileSync(f);
    b[b.length - 10] ^= 0x20;
    fs.writeFileSync(f, b);
    const { report } = ModelStore.open(dir);
    expect(report.current?.manifest.version).toBe('0');
    expect(report.rolledBack).toBe(true);
    expect(report.actions.join('\n')).toMatch(/CHECKSUM[\s\S]*fell back/);
    expect(fs.existsSync(f)).toBe(false);
    expect(pointer(dir)).toMatchObject({ previous: null, state: 'stable' });
  });

  it('a truncated current file (zero bytes) also falls back', async () => {
    const { dir } = await twoVersionStore();
    fs.writeFileSync(path.join(dir, 'versions', pointer(dir).current as string), '');
    expect(ModelStore.open(dir).report.current?.manifest.version).toBe('0');
  });

  it('drops a damaged previous model but keeps serving the current one', async () => {
    const { dir } = await twoVersionStore();
    fs.writeFileSync(path.join(dir, 'versions', pointer(dir).previous as string), 'garbage');
    const { report } = ModelStore.open(dir);
    expect(report.current?.manifest.version).toBe('1');
    expect(report.previous).toBeNull();
    expect(report.rolledBack).toBe(false);
    expect(pointer(dir).previous).toBeNull();
  });

  it('missing or unreadable CURRENT: the newest valid version', async () => {
    for (const damage of ['delete', 'garbage', 'names-missing-files']) {
      const { dir } = await twoVersionStore();
      const p = path.join(dir, POINTER_FILE);
      if (damage === 'delete') fs.unlinkSync(p);
      else if (damage === 'garbage') fs.writeFileSync(p, '{"v":1,"curr');
      else fs.writeFileSync(p, JSON.stringify({ v: 1, current: '0000000000000099.edgennup', previous: null, state: 'stable', boots: 0 }));
      const { report } = ModelStore.open(dir);
      expect(report.current?.manifest.version, damage).toBe('1');
      expect(pointer(dir).current, damage).toBe(report.current?.file);
    }
  });

  it('removes stale staging files, a torn pointer temp file and unreferenced versions', async () => {
    const { dir } = await twoVersionStore();
    const keep = fs.readdirSync(path.join(dir, 'versions')).sort();
    fs.writeFileSync(path.join(dir, 'staging', '0000000000000042.edgennup'), 'half an upd');
    fs.writeFileSync(path.join(dir, '.CURRENT.tmp'), '{"v":1,"cur');
    fs.copyFileSync(path.join(dir, 'versions', keep[1]!), path.join(dir, 'versions', '0000000000000041.edgennup'));
    const { report } = ModelStore.open(dir);
    expect(report.current?.manifest.version).toBe('1');
    expect(report.actions).toHaveLength(3);
    expect(fs.readdirSync(path.join(dir, 'staging'))).toEqual([]);
    expect(fs.existsSync(path.join(dir, '.CURRENT.tmp'))).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'versions')).sort()).toEqual(keep);
  });

  it('nothing valid left: no model, no pointer (the agent installs its configured one)', async () => {
    const { dir } = await twoVersionStore();
    for (const f of fs.readdirSync(path.join(dir, 'versions'))) fs.writeFileSync(path.join(dir, 'versions', f), 'x');
    const { report } = ModelStore.open(dir);
    expect(report.current).toBeNull();
    expect(fs.existsSync(path.join(dir, POINTER_FILE))).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'versions'))).toEqual([]);
  });

  it('a model on probation through more than maxProbationBoots restarts is rolled back', async () => {
    const { dir, store } = await twoVersionStore();
    await installUpdate(store, art(m2, '2'), install); // on probation, never marked stable
    for (let boot = 1; boot <= 3; boot++) {
      const { report } = ModelStore.open(dir, { maxProbationBoots: 3 });
      expect(report.current?.manifest.version).toBe('2');
      expect(report.boots).toBe(boot);
      expect(report.state).toBe('probation');
    }
    const { report } = ModelStore.open(dir, { maxProbationBoots: 3 });
    expect(report.current?.manifest.version).toBe('1');
    expect(report.rolledBack).toBe(true);
    expect(report.state).toBe('stable');
    // markStable ends the count
    const { store: s2 } = ModelStore.open(dir);
    await installUpdate(s2, art(m2, '3'), install);
    s2.markStable();
    for (let boot = 0; boot < 5; boot++) expect(ModelStore.open(dir, { maxProbationBoots: 1 }).report.current?.manifest.version).toBe('3');
  });
});
