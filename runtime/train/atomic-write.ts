// Atomic file replacement: write a temp file in the same folder, fsync it, rename it over the
// target, fsync the folder. A reader (or a restart after power loss) sees the old file or the new
// one, never a torn mix. Used for checkpoints, trained models, logs and the device's state files.
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, promises as fsp } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { EdgennError } from '../errors.js';

function tempOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}

/** `mode`: permissions of the new file (default 0o644; 0o600 for a private key). */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, mode = 0o644): void {
  const dir = dirname(path);
  const tmp = tempOf(path);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd = -1;
  try {
    fd = openSync(tmp, 'w', mode);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) try { closeSync(fd); } catch { /* already failing */ }
    try { unlinkSync(tmp); } catch { /* may not exist */ }
    throw new EdgennError('IO', `cannot write ${path}: ${(e as Error).message}`, { file: path });
  }
  fsyncDir(dir);
}

/** fsync a directory so a rename in it is durable (a no-op where the OS does not allow it). */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some platforms (Windows) cannot open or fsync a directory; the rename is still atomic
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** The same on the thread pool, so an fsync on a slow SD card does not stall the event loop. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempOf(path);
  try {
    const h = await fsp.open(tmp, 'w', 0o644);
    try {
      await h.writeFile(data);
      await h.sync();
    } finally {
      await h.close();
    }
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.unlink(tmp).catch(() => undefined);
    throw new EdgennError('IO', `cannot write ${path}: ${(e as Error).message}`, { file: path });
  }
  let d: import('node:fs').promises.FileHandle | null = null;
  try {
    d = await fsp.open(dirname(path), 'r');
    await d.sync();
  } catch {
    // see fsyncDir
  } finally {
    if (d !== null) await d.close();
  }
}
