// Writing output files so that nothing is ever left half-written: write a temp file next to the
// target, fsync it, rename it over the target (atomic on POSIX file systems), fsync the folder.
// A reader sees the old file or the new one, never a torn one; a crash leaves at most a stray
// `.<name>.tmp-<pid>-<n>` file. AtomicAppender does the same for a file written incrementally
// (the --log-json log): lines go to the temp file during training, `commit()` renames it.
// Errors are EdgennError('IO') naming the target file. One-shot writes use the runtime's
// writeFileAtomicSync (the same helper checkpoints use); this file adds the incremental writer.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { fsyncDir, writeFileAtomicSync } from '../../runtime/train/atomic-write.js';

let counter = 0;

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
}

function ioError(path: string, what: string, e: unknown): EdgennError {
  const err = e as NodeJS.ErrnoException;
  return new EdgennError('IO', `cannot ${what}: ${err.message ?? String(e)}`, { file: path });
}

function removeQuietly(p: string): void {
  try { unlinkSync(p); } catch { /* already gone */ }
}

/** Writes data to path atomically (temp + fsync + rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomicSync(path, data);
}

/** A file written piece by piece that appears at its path only on commit(). */
export class AtomicAppender {
  readonly path: string;
  private readonly tmp: string;
  private fd: number;
  private pending = '';

  constructor(path: string) {
    this.path = path;
    this.tmp = tempPathFor(path);
    try {
      this.fd = openSync(this.tmp, 'wx');
    } catch (e) {
      throw ioError(path, 'write', e);
    }
  }

  /** Buffers text (flushed every 64 KiB) or writes bytes. */
  write(data: string | Uint8Array): void {
    if (this.fd < 0) throw new EdgennError('STATE', 'write after commit/abort', { file: this.path });
    if (typeof data === 'string') {
      this.pending += data;
      if (this.pending.length >= 65536) this.flush();
      return;
    }
    this.flush();
    this.writeAll(data);
  }

  /** fsync + rename over the target; the file is complete at its path afterwards. */
  commit(): void {
    if (this.fd < 0) throw new EdgennError('STATE', 'commit after commit/abort', { file: this.path });
    try {
      this.flush();
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tmp, this.path);
    } catch (e) {
      this.abort();
      throw e instanceof EdgennError ? e : ioError(this.path, 'write', e);
    }
    fsyncDir(dirname(this.path));
  }

  /** Drops the temp file; the target is untouched. Safe to call more than once. */
  abort(): void {
    if (this.fd >= 0) {
      try { closeSync(this.fd); } catch { /* closing a broken fd */ }
      this.fd = -1;
    }
    removeQuietly(this.tmp);
  }

  private flush(): void {
    if (this.pending === '') return;
    const bytes = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    this.writeAll(bytes);
  }

  private writeAll(bytes: Uint8Array): void {
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    } catch (e) {
      throw ioError(this.path, 'write', e);
    }
  }
}
