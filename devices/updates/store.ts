// The on-disk model store of a device: which model is served, which one to fall back to, and the
// update in progress. Crash-safe: whatever instant the process dies (kill -9, power loss with an
// honest fsync), recover() finds a complete model whose bytes hash to its manifest — the old one or
// the new one, never a mix or a half-written file.
//
// Layout (one folder per device; ARTIFACT.md has the same text):
//   versions/<generation, 16 digits>.edgennup   immutable artifact containers (artifact.ts), one
//                                               per installed model; at most current + previous
//                                               remain after a commit/rollback/recover
//   CURRENT                                     the pointer: {"v":1,"current":"<file>",
//                                               "previous":"<file>"|null,"state":"probation"|"stable",
//                                               "boots":n}; replaced atomically (temp + fsync +
//                                               rename + fsync dir): THE COMMIT POINT of every change
//   staging/<generation>.edgennup               the update being validated; never served; deleted
//                                               by recover()
//   .CURRENT.tmp                                the pointer being written; deleted by recover()
//
// Update sequence: stage (write + fsync into staging/) → validate (re-read from disk, hash check,
// the agent's decode/shape/smoke check) → commit (rename into versions/, fsync; write CURRENT;
// delete what is no longer referenced). Before CURRENT is renamed the old model is current; after,
// the new one. A file in versions/ that CURRENT does not name was never committed and is deleted.
//
// Probation across restarts: commit() marks the new model "probation"; the agent calls
// markStable() when probation.ts says keep, rollback() when it says rollback. recover() counts
// restarts that happen while on probation ("boots"): a model that takes the agent down
// maxProbationBoots times in a row is rolled back at the next start (a crash loop never gets to
// finish its probation otherwise).
//
// Integrity vs authenticity: files here were signature-checked on arrival (verifyArtifact); the
// store re-checks framing and SHA-256 on every load (decodeArtifact), which catches torn or
// corrupted files, not attackers with write access to the folder.
//
// What it is not: no model decoding (the agent's check callback), no serving, no signatures. One
// process owns a store folder at a time; calls are synchronous (a few fsyncs, milliseconds on an
// SD card) except validate(), which awaits the agent's check; one update at a time.
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { fsyncDir } from '../../runtime/train/atomic-write.js';
import {
  DEFAULT_MAX_ARTIFACT_BYTES, decodeArtifact, unsignedArtifact,
  type ArtifactLimits, type DecodedArtifact, type Manifest, type ManifestFields, type VerifiedArtifact,
} from './artifact.js';

export const POINTER_FILE = 'CURRENT';
const POINTER_TMP = '.CURRENT.tmp';
const VERSIONS_DIR = 'versions';
const STAGING_DIR = 'staging';
const FILE_RE = /^(\d{16})\.edgennup$/;
const MAX_POINTER_BYTES = 4096;

/** Names of the durable steps, reported to onStep after each one (the crash test kills there). */
export type StoreStep =
  | 'stage:create' | 'stage:chunk' | 'stage:fsync' | 'stage:close' | 'stage:fsync-dir'
  | 'commit:rename' | 'commit:fsync-dirs'
  | 'pointer:write' | 'pointer:fsync' | 'pointer:rename' | 'pointer:fsync-dir'
  | 'gc:unlink' | 'gc:fsync-dir';

export interface ModelStoreOptions extends ArtifactLimits {
  /** called after each durable step (tests kill the process here); never throws into the store */
  readonly onStep?: (step: StoreStep) => void;
  /** staged files are written in chunks of this size; default 1 MiB */
  readonly writeChunkBytes?: number;
  /** restarts on probation after which recover() rolls back; default 3 */
  readonly maxProbationBoots?: number;
}

export interface StoredModel {
  /** the container's file name in versions/ */
  readonly file: string;
  readonly generation: number;
  readonly manifest: Manifest;
  /** false for a locally installed (stageLocal) model */
  readonly signed: boolean;
  // NOTE: no bytes: the store verifies a container's hash when it loads it and then lets the bytes
  // go (a served model's file can be MBs, held for the process's life on a 512 MB board); the
  // agent reads them again, verified, with readModel() when it decodes the model.
}

export type ModelCheck = (model: Uint8Array, manifest: Manifest) => Promise<void>;

/** An update written to staging/; validate() then commit() (or discard()). */
export interface StagedModel {
  readonly file: string;
  readonly generation: number;
  readonly manifest: Manifest;
}

export type StoreState = 'probation' | 'stable';

export interface RecoverReport {
  /** the model to serve; null when the store holds no valid model (first boot: install one) */
  readonly current: StoredModel | null;
  readonly previous: Manifest | null;
  readonly state: StoreState | null;
  /** restarts so far while `current` is on probation */
  readonly boots: number;
  /** true when recover() fell back to the previous model (broken current, or a crash loop) */
  readonly rolledBack: boolean;
  /** what recover() repaired, one line each, for the agent's events */
  readonly actions: readonly string[];
}

interface Pointer {
  readonly v: 1;
  readonly current: string;
  readonly previous: string | null;
  readonly state: StoreState;
  readonly boots: number;
}

interface Staged extends StagedModel {
  validated: boolean;
  loaded: StoredModel | null;
}

function ioError(what: string, path: string, e: unknown): EdgennError {
  if (e instanceof EdgennError) return e;
  const err = e as NodeJS.ErrnoException;
  return new EdgennError('IO', `cannot ${what}: ${err.code ?? ''} ${err.message ?? String(e)}`.replace(/\s+/g, ' ').trim(), { file: path });
}

function generationOf(file: string): number {
  return Number(FILE_RE.exec(file)![1]);
}

function fileOf(gen: number): string {
  return `${String(gen).padStart(16, '0')}.edgennup`;
}

function parsePointer(text: string): Pointer {
  const v = JSON.parse(text) as Record<string, unknown>;
  const name = (x: unknown): x is string => typeof x === 'string' && FILE_RE.test(x);
  if (typeof v !== 'object' || v === null || v.v !== 1 || !name(v.current) || !(v.previous === null || name(v.previous)) ||
    (v.state !== 'probation' && v.state !== 'stable') || typeof v.boots !== 'number' || !Number.isSafeInteger(v.boots) || v.boots < 0) {
    throw new Error('not a v1 pointer');
  }
  return { v: 1, current: v.current, previous: v.previous === v.current ? null : v.previous, state: v.state, boots: v.boots };
}

export class ModelStore {
  readonly root: string;
  private readonly versions: string;
  private readonly staging: string;
  private readonly opts: ModelStoreOptions;
  private pointer: Pointer | null = null;
  private cur: StoredModel | null = null;
  private prev: Manifest | null = null;
  private staged: Staged | null = null;
  /** highest generation handed out by this process: a discarded staging file's number is never
   * reused, so an old StagedModel handle can never match a newer update */
  private lastGeneration = 0;

  /** Opens (creating the folders) and runs recover(); the report says what to serve. */
  static open(root: string, opts: ModelStoreOptions = {}): { store: ModelStore; report: RecoverReport } {
    const store = new ModelStore(root, opts);
    return { store, report: store.recover() };
  }

  constructor(root: string, opts: ModelStoreOptions = {}) {
    this.root = root;
    this.versions = join(root, VERSIONS_DIR);
    this.staging = join(root, STAGING_DIR);
    this.opts = opts;
  }

  /** The model to serve (after recover/commit/rollback); null when the store is empty. */
  current(): StoredModel | null {
    return this.cur;
  }

  previous(): Manifest | null {
    return this.prev;
  }

  state(): StoreState | null {
    return this.pointer?.state ?? null;
  }

  // -------------------------------------------------------------------------------------------
  // recover

  /**
   * Brings the folder to a consistent state and loads the model to serve: deletes stale staging
   * and temp files; loads CURRENT's model, verifying its hash, and falls back to the previous model
   * (then to the newest valid file in versions/) when it fails; rolls back a model that crashed
   * the agent maxProbationBoots times while on probation; rewrites CURRENT when it changed; deletes
   * unreferenced versions. Never returns a model whose bytes fail their manifest.
   */
  recover(): RecoverReport {
    const actions: string[] = [];
    this.staged = null;
    try {
      mkdirSync(this.versions, { recursive: true });
      mkdirSync(this.staging, { recursive: true });
    } catch (e) {
      throw ioError('create the model store', this.root, e);
    }
    fsyncDir(this.root); // the folders' own entries must survive a power cut too
    for (const f of this.list(this.staging)) {
      this.unlink(join(this.staging, f));
      actions.push(`removed unfinished update staging/${f}`);
    }
    if (existsSync(join(this.root, POINTER_TMP))) {
      this.unlink(join(this.root, POINTER_TMP));
      actions.push(`removed unfinished ${POINTER_TMP}`);
    }

    let pointer: Pointer | null = null;
    const pointerPath = join(this.root, POINTER_FILE);
    if (existsSync(pointerPath)) {
      try {
        const st = statSync(pointerPath);
        if (st.size > MAX_POINTER_BYTES) throw new Error(`${st.size} bytes`);
        pointer = parsePointer(readFileSync(pointerPath, 'utf8'));
      } catch (e) {
        actions.push(`${POINTER_FILE} is unreadable (${(e as Error).message}); choosing from versions/`);
      }
    }

    const failed = new Set<string>();
    const tryLoad = (file: string): StoredModel | null => {
      if (failed.has(file)) return null;
      const r = this.load(file);
      if (typeof r === 'string') {
        failed.add(file);
        actions.push(`versions/${file} is broken (${r})`);
        return null;
      }
      return r.stored;
    };

    let cur: StoredModel | null = null;
    let prev: StoredModel | null = null;
    let state: StoreState = 'stable';
    let boots = 0;
    let rolledBack = false;
    if (pointer !== null) {
      cur = tryLoad(pointer.current);
      const p = pointer.previous !== null ? tryLoad(pointer.previous) : null;
      if (cur !== null) {
        prev = p;
        state = pointer.state;
        boots = pointer.state === 'probation' ? pointer.boots + 1 : 0;
        const limit = this.opts.maxProbationBoots ?? 3;
        if (state === 'probation' && boots > limit && prev !== null) {
          actions.push(`model ${cur.manifest.version} (${cur.file}) was on probation through ${pointer.boots} restarts; rolled back to ${prev.manifest.version}`);
          cur = prev;
          prev = null;
          state = 'stable';
          boots = 0;
          rolledBack = true;
        }
      } else if (p !== null) {
        actions.push(`fell back to the previous model ${p.manifest.version} (${p.file})`);
        cur = p;
        rolledBack = true;
      }
    }
    if (cur === null) {
      // No pointer (first install cut short), or nothing it names loads: the newest valid version.
      // Only commit() puts files into versions/, after validation, so any valid one was validated.
      const files = this.list(this.versions).filter((f) => FILE_RE.test(f)).sort().reverse();
      for (const f of files) {
        cur = tryLoad(f);
        if (cur !== null) {
          actions.push(`serving versions/${f} (${cur.manifest.version}): ${pointer === null ? `no valid ${POINTER_FILE}` : 'nothing CURRENT names is valid'}`);
          break;
        }
      }
    }

    const next: Pointer | null = cur === null ? null
      : { v: 1, current: cur.file, previous: prev?.file ?? null, state, boots };
    if (next === null) {
      if (pointer !== null) {
        this.unlink(pointerPath);
        fsyncDir(this.root);
        actions.push(`no valid model left: removed ${POINTER_FILE}`);
      }
    } else if (pointer === null || JSON.stringify(next) !== JSON.stringify(pointer)) {
      this.writePointer(next);
    }
    this.pointer = next;
    this.cur = cur;
    this.prev = prev?.manifest ?? null;
    for (const f of this.gc()) actions.push(`removed unreferenced versions/${f}`);
    return { current: cur, previous: this.prev, state: next?.state ?? null, boots, rolledBack, actions };
  }

  // -------------------------------------------------------------------------------------------
  // update: stage → validate → commit

  /** Writes a verified artifact to staging/ (fsynced). Replaces any earlier staged update. */
  stage(artifact: VerifiedArtifact): StagedModel {
    return this.stageBytes(artifact);
  }

  /** Stages a model that did not come signed (the agent's configured model at first boot). */
  stageLocal(model: Uint8Array, fields: ManifestFields): StagedModel {
    const { bytes } = unsignedArtifact(model, fields);
    return this.stageBytes(decodeArtifact(bytes, this.opts));
  }

  /**
   * Re-reads the staged file (its hash must still match), then awaits the agent's check (decode,
   * shapes against the configuration, smoke inference with finite outputs). A failure discards
   * the staged update and rethrows; the served model is untouched either way.
   */
  async validate(staged: StagedModel, check: ModelCheck): Promise<void> {
    const s = this.pending(staged);
    try {
      const r = this.load(s.file, this.staging);
      if (typeof r === 'string') throw new EdgennError('CHECKSUM', `staged update is damaged on disk: ${r}`, { file: join(this.staging, s.file) });
      await check(r.model, r.stored.manifest);
      if (this.staged !== s) throw new EdgennError('STATE', 'the staged update was replaced or discarded during validation', { file: s.file });
      s.loaded = r.stored;
      s.validated = true;
    } catch (e) {
      if (this.staged === s) this.discard(s);
      throw e;
    }
  }

  /** Swaps the validated update in (CURRENT's rename is the commit point), keeping the old model as
   * previous; the new model starts on probation. Returns the model to serve now. */
  commit(staged: StagedModel): StoredModel {
    const s = this.pending(staged);
    if (!s.validated || s.loaded === null) throw new EdgennError('STATE', 'commit before validate succeeded', { file: s.file });
    const from = join(this.staging, s.file);
    const to = join(this.versions, s.file);
    try {
      renameSync(from, to);
    } catch (e) {
      throw ioError('move the update into versions/', to, e);
    }
    this.step('commit:rename');
    fsyncDir(this.versions);
    fsyncDir(this.staging);
    this.step('commit:fsync-dirs');
    const old = this.cur;
    const next: Pointer = { v: 1, current: s.file, previous: old?.file ?? null, state: 'probation', boots: 0 };
    try {
      this.writePointer(next);
    } catch (e) {
      // not committed: the old model stays; the unreferenced file goes (recover() would delete it too)
      this.staged = null;
      try { unlinkSync(to); } catch { /* recover() cleans it up */ }
      throw e;
    }
    this.pointer = next;
    this.staged = null;
    this.cur = { ...s.loaded, file: s.file };
    this.prev = old?.manifest ?? null;
    this.gc();
    return this.cur;
  }

  /** Drops a staged update (its file is deleted). */
  discard(staged: StagedModel): void {
    if (this.staged === null || this.staged.file !== staged.file) return;
    this.unlink(join(this.staging, staged.file));
    this.staged = null;
  }

  // -------------------------------------------------------------------------------------------
  // after a commit

  /** Probation passed: the current model is kept (survives restarts without the boot count). */
  markStable(): void {
    const p = this.pointer;
    if (p === null) throw new EdgennError('STATE', 'the store holds no model', { file: this.root });
    if (p.state === 'stable') return;
    const next: Pointer = { ...p, state: 'stable', boots: 0 };
    this.writePointer(next);
    this.pointer = next;
  }

  /** Serves the previous model again (probation failed, or an operator's command); the current
   * one is deleted. Throws STATE without a previous model, CHECKSUM when it no longer verifies
   * (the current model then stays). */
  rollback(): StoredModel {
    const p = this.pointer;
    if (p === null || p.previous === null) throw new EdgennError('STATE', 'no previous model to roll back to', { file: this.root });
    const r = this.load(p.previous);
    if (typeof r === 'string') throw new EdgennError('CHECKSUM', `the previous model is broken: ${r}`, { file: join(this.versions, p.previous) });
    const next: Pointer = { v: 1, current: p.previous, previous: null, state: 'stable', boots: 0 };
    this.writePointer(next);
    this.pointer = next;
    this.cur = r.stored;
    this.prev = null;
    this.gc();
    return r.stored;
  }

  /** The bytes of a stored model, read from its container again and verified against the
   * manifest it was loaded with. Throws CHECKSUM when the file no longer verifies or is no longer
   * that model (e.g. damaged on disk since), IO when it cannot be read. */
  readModel(m: StoredModel): Uint8Array {
    const file = join(this.versions, m.file);
    const r = this.load(m.file);
    if (typeof r === 'string') {
      throw new EdgennError(r === 'missing' ? 'IO' : 'CHECKSUM', `stored model ${m.manifest.modelId}@${m.manifest.version} cannot be read back: ${r}`, { file });
    }
    if (r.stored.manifest.sha256 !== m.manifest.sha256) {
      throw new EdgennError('CHECKSUM', 'stored model file holds another model than the one loaded', { file, expected: m.manifest.sha256, actual: r.stored.manifest.sha256 });
    }
    return r.model;
  }

  // -------------------------------------------------------------------------------------------
  // internals

  private step(s: StoreStep): void {
    const f = this.opts.onStep;
    if (f !== undefined) {
      try { f(s); } catch { /* a test hook never breaks the store */ }
    }
  }

  private pending(staged: StagedModel): Staged {
    const s = this.staged;
    if (s === null || s.file !== staged.file) throw new EdgennError('STATE', 'not the staged update (already committed, discarded or replaced)', { file: staged.file });
    return s;
  }

  private list(dir: string): string[] {
    try {
      return readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError('list', dir, e);
    }
  }

  private unlink(path: string): void {
    try {
      unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('delete', path, e);
    }
  }

  /** Reads and checks one container (its model bytes hash to its manifest); the reason as a
   * string when it is missing or broken. */
  private load(file: string, dir = this.versions): { readonly stored: StoredModel; readonly model: Uint8Array } | string {
    const path = join(dir, file);
    const max = this.opts.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
    let bytes: Uint8Array;
    try {
      const st = statSync(path);
      if (st.size > max) return `${st.size} bytes, above the limit of ${max}`;
      bytes = readFileSync(path);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message;
    }
    let d: DecodedArtifact;
    try {
      d = decodeArtifact(bytes, this.opts, path);
    } catch (e) {
      return e instanceof EdgennError ? `${e.code}: ${e.message}` : String(e);
    }
    return { stored: { file, generation: generationOf(file), manifest: d.manifest, signed: d.signature.length > 0 }, model: d.model };
  }

  private nextGeneration(): number {
    let g = 0;
    for (const f of [...this.list(this.versions), ...this.list(this.staging)]) {
      const m = FILE_RE.exec(f);
      if (m !== null) g = Math.max(g, Number(m[1]));
    }
    this.lastGeneration = Math.max(g, this.lastGeneration) + 1;
    return this.lastGeneration;
  }

  private stageBytes(a: DecodedArtifact): StagedModel {
    if (this.staged !== null) this.discard(this.staged);
    const gen = this.nextGeneration();
    const file = fileOf(gen);
    const path = join(this.staging, file);
    const chunk = Math.max(1, this.opts.writeChunkBytes ?? 1024 * 1024);
    let fd = -1;
    try {
      fd = openSync(path, 'wx', 0o644);
      this.step('stage:create');
      const b = a.bytes;
      let off = 0;
      while (off < b.length) {
        const end = Math.min(b.length, off + chunk);
        while (off < end) off += writeSync(fd, b, off, end - off);
        this.step('stage:chunk');
      }
      fsyncSync(fd);
      this.step('stage:fsync');
      closeSync(fd);
      fd = -1;
      this.step('stage:close');
    } catch (e) {
      if (fd >= 0) try { closeSync(fd); } catch { /* already failing */ }
      this.unlink(path);
      throw ioError('write the staged update', path, e);
    }
    fsyncDir(this.staging);
    this.step('stage:fsync-dir');
    const s: Staged = { file, generation: gen, manifest: a.manifest, validated: false, loaded: null };
    this.staged = s;
    return { file, generation: gen, manifest: a.manifest };
  }

  /** temp + fsync + rename + fsync dir, with a step after each (the runtime's writeFileAtomicSync
   * does the same in one call; the crash test needs to stop between the steps). */
  private writePointer(p: Pointer): void {
    const tmp = join(this.root, POINTER_TMP);
    const path = join(this.root, POINTER_FILE);
    const bytes = Buffer.from(JSON.stringify(p) + '\n', 'utf8');
    let fd = -1;
    try {
      fd = openSync(tmp, 'w', 0o644);
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      this.step('pointer:write');
      fsyncSync(fd);
      closeSync(fd);
      fd = -1;
      this.step('pointer:fsync');
      renameSync(tmp, path);
    } catch (e) {
      if (fd >= 0) try { closeSync(fd); } catch { /* already failing */ }
      this.unlink(tmp);
      throw ioError(`write ${POINTER_FILE}`, path, e);
    }
    this.step('pointer:rename');
    fsyncDir(this.root);
    this.step('pointer:fsync-dir');
  }

  /** Deletes versions/ files CURRENT does not name; returns their names. */
  private gc(): string[] {
    const keep = new Set<string>();
    if (this.pointer !== null) {
      keep.add(this.pointer.current);
      if (this.pointer.previous !== null) keep.add(this.pointer.previous);
    }
    const removed: string[] = [];
    for (const f of this.list(this.versions)) {
      if (keep.has(f)) continue;
      this.unlink(join(this.versions, f));
      removed.push(f);
      this.step('gc:unlink');
    }
    if (removed.length > 0) {
      fsyncDir(this.versions);
      this.step('gc:fsync-dir');
    }
    return removed;
  }
}
