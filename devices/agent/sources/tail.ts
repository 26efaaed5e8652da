// A file another process appends JSON lines to (`{"kind": "tail", "path": ..., "output": ...}`):
// read from the last offset whenever it grows, answer each complete line (protocol.ts), and keep
// the offset on disk so a restarted agent resumes where it stopped instead of re-reading the file.
// Growth is noticed by fs.watch and, as a fallback for filesystems where watch events do not
// arrive (network mounts, some overlay filesystems) or a file that does not exist yet, by polling
// its size every pollMs.
//
// Offset file: <stateDir>/tail/<16 hex of sha256(path)>.json = {"v":1,"path","offset","ino"},
// replaced atomically after each batch of lines, pointing just past the last complete line (a
// partial last line is read again once its newline arrives). A file whose inode changed (rotated)
// or that became shorter than the offset (truncated) is read from the start.
// Delivery is at-least-once: a crash between answering lines and saving the offset answers those
// lines again after the restart.
//
// It is not a log rotator and does not follow renamed files.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../../../runtime/train/atomic-write.js';
import { serveLine, type ServingPort } from '../protocol.js';

export interface TailSourceOptions {
  readonly file: string;
  readonly stateDir: string;
  readonly port: ServingPort;
  /** Responses, one line each (appended); none when absent. */
  readonly output?: string;
  readonly pollMs: number;
  /** Default 1 MiB. */
  readonly maxLineBytes?: number;
  readonly log?: (line: string) => void;
}

export interface TailSource {
  readonly offset: number;
  readonly lines: number;
  /** Reads whatever is new now (also called by watch and poll). */
  drain(): void;
  stop(): void;
}

interface OffsetFile { v: 1; path: string; offset: number; ino: number }

const CHUNK = 64 * 1024;

export function tailOffsetFile(stateDir: string, file: string): string {
  return path.join(stateDir, 'tail', `${createHash('sha256').update(file).digest('hex').slice(0, 16)}.json`);
}

export function startTailSource(o: TailSourceOptions): TailSource {
  const max = o.maxLineBytes ?? 1 << 20;
  const offFile = tailOffsetFile(o.stateDir, o.file);
  fs.mkdirSync(path.dirname(offFile), { recursive: true });
  let offset = 0;
  let ino = -1;
  try {
    const saved = JSON.parse(fs.readFileSync(offFile, 'utf8')) as Partial<OffsetFile>;
    if (saved.v === 1 && saved.path === o.file && typeof saved.offset === 'number' && saved.offset >= 0) {
      offset = saved.offset;
      ino = typeof saved.ino === 'number' ? saved.ino : -1;
    }
  } catch { /* first start: from the beginning */ }
  const buf = Buffer.allocUnsafe(CHUNK);
  const out = o.output !== undefined ? fs.openSync(o.output, 'a') : -1;
  let lines = 0;
  let stopped = false;
  let reading = false;
  let skipping = false;   // inside an over-long line: its rest is dropped up to its newline

  const save = (): void => {
    const rec: OffsetFile = { v: 1, path: o.file, offset, ino };
    try { writeFileAtomicSync(offFile, JSON.stringify(rec)); } catch (e) { o.log?.(`tail: cannot save offset: ${(e as Error).message}`); }
  };

  const drain = (): void => {
    if (stopped || reading) return;
    reading = true;
    let fd = -1;
    try {
      try { fd = fs.openSync(o.file, 'r'); } catch { return; } // not there (yet)
      const st = fs.fstatSync(fd);
      if ((ino !== -1 && st.ino !== ino) || st.size < offset) {
        o.log?.(`tail: ${o.file} was ${st.ino !== ino ? 'replaced' : 'truncated'}; reading from the start`);
        offset = 0;
      }
      ino = st.ino;
      let pos = offset;
      let carry = '';
      let responses = '';
      let changed = false;
      while (pos < st.size) {
        const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, st.size - pos), pos);
        if (n <= 0) break;
        pos += n;
        // NOTE: a multi-byte UTF-8 character can straddle two chunks: only complete lines are
        // decoded (split on the byte 0x0a, which never occurs inside a UTF-8 sequence).
        let from = 0;
        for (;;) {
          const nl = buf.indexOf(10, from);
          if (nl < 0 || nl >= n) break;
          const line = skipping ? '' : carry + buf.toString('utf8', from, nl);
          skipping = false;
          carry = '';
          from = nl + 1;
          const r = line.length > max ? `{"error":"line longer than ${max} bytes, skipped"}` : serveLine(o.port, line);
          if (r !== null) { responses += r + '\n'; lines++; }
          offset = pos - n + from;
          changed = true;
        }
        if (from < n && !skipping) {
          carry += buf.toString('utf8', from, n);
          if (carry.length > max) {
            skipping = true;
            // An endless line: answer once, skip to its end.
            responses += `{"error":"line longer than ${max} bytes, skipped"}\n`;
            lines++;
            carry = '';
            offset = pos;
            changed = true;
          }
        } else if (skipping) {
          offset = pos;
        }
        if (responses.length > CHUNK) { if (out >= 0) fs.writeSync(out, responses); responses = ''; }
      }
      if (responses !== '' && out >= 0) fs.writeSync(out, responses);
      if (changed) save();
    } catch (e) {
      o.log?.(`tail: ${(e as Error).message}`);
    } finally {
      if (fd >= 0) fs.closeSync(fd);
      reading = false;
    }
  };

  let watcher: fs.FSWatcher | null = null;
  const watch = (): void => {
    if (watcher !== null || stopped) return;
    try {
      watcher = fs.watch(o.file, { persistent: false }, () => setImmediate(drain));
      watcher.on('error', () => { watcher?.close(); watcher = null; });
    } catch {
      watcher = null; // not there yet, or not supported: polling covers it
    }
  };
  const poll = setInterval(() => { watch(); drain(); }, o.pollMs);
  watch();
  setImmediate(drain);

  return {
    get offset() { return offset; },
    get lines() { return lines; },
    drain,
    stop() {
      stopped = true;
      clearInterval(poll);
      watcher?.close();
      watcher = null;
      if (out >= 0) fs.closeSync(out);
    },
  };
}
