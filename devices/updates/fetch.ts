// Fetching an artifact named by reference in an update command instead of carried inline:
//   file:///abs/path/model.edgennup      a local file (optionally confined to allowed folders)
//   http://127.0.0.1[:port]/path         a loopback HTTP server (also http://[::1]/...)
// Anything else (https, other hosts, redirects) is refused: in this deployment an artifact comes
// from the broker or from a helper process on the board; remote fetching needs TLS and is not
// implemented. Every fetch is bounded: the size is checked against maxBytes before a buffer is
// allocated (file size / Content-Length) and again while streaming; the whole download has a
// deadline. The bytes are returned unverified: the caller runs verifyArtifact on them.
import { promises as fsp, realpathSync } from 'node:fs';
import { request } from 'node:http';
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EdgennError } from '../../runtime/errors.js';
import { DEFAULT_MAX_ARTIFACT_BYTES } from './artifact.js';

export interface FetchOptions {
  /** default DEFAULT_MAX_ARTIFACT_BYTES (64 MiB) */
  readonly maxBytes?: number;
  /** deadline of the whole download; default 30 s */
  readonly timeoutMs?: number;
  /** when given, file:// references must resolve (symlinks followed) inside one of these folders */
  readonly fileRoots?: readonly string[];
}

const LOOPBACK_HOSTS = ['127.0.0.1', '[::1]'];

function limitError(ref: string, max: number, actual: string): EdgennError {
  return new EdgennError('LIMIT', 'artifact is too large', { file: ref, expected: `at most ${max} bytes`, actual });
}

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}

async function fetchFile(url: URL, ref: string, max: number, roots: readonly string[] | undefined): Promise<Uint8Array> {
  if (url.host !== '') throw new EdgennError('ARG', 'file:// references must name a local path (no host)', { file: ref });
  const path = fileURLToPath(url);
  if (roots !== undefined) {
    let real: string;
    try {
      real = realpathSync(path);
    } catch (e) {
      throw new EdgennError('IO', `cannot read artifact: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: ref });
    }
    if (!roots.some((r) => inside(realpathSync(r), real))) {
      throw new EdgennError('ARG', 'file reference is outside the allowed folders', { file: ref, expected: `a file under ${roots.join(', ')}` });
    }
  }
  let h: import('node:fs').promises.FileHandle;
  try {
    h = await fsp.open(path, 'r');
  } catch (e) {
    throw new EdgennError('IO', `cannot read artifact: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: ref });
  }
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new EdgennError('IO', 'artifact reference is not a regular file', { file: ref });
    if (st.size > max) throw limitError(ref, max, `${st.size} bytes`);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await h.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break; // shrank while reading: verifyArtifact will report it truncated
      off += bytesRead;
    }
    return buf.subarray(0, off);
  } finally {
    await h.close();
  }
}

function fetchHttp(url: URL, ref: string, max: number, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let done = false;
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (e: EdgennError | null, v?: Uint8Array): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e !== null) {
        req.destroy();
        reject(e);
      } else {
        resolve(v!);
      }
    };
    const req = request(url, { method: 'GET', headers: { accept: 'application/octet-stream' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        finish(new EdgennError('IO', `artifact download failed: HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`, { file: ref }));
        return;
      }
      const declared = res.headers['content-length'];
      if (declared !== undefined && Number(declared) > max) {
        finish(limitError(ref, max, `Content-Length ${declared}`));
        return;
      }
      res.on('data', (c: Buffer) => {
        total += c.length;
        if (total > max) {
          finish(limitError(ref, max, `more than ${max} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => finish(null, Buffer.concat(chunks, total)));
      res.on('error', (e) => finish(new EdgennError('IO', `artifact download failed: ${e.message}`, { file: ref })));
      res.on('aborted', () => finish(new EdgennError('IO', 'artifact download was cut off', { file: ref })));
    });
    const timer = setTimeout(() => finish(new EdgennError('IO', `artifact download timed out after ${timeoutMs} ms`, { file: ref })), timeoutMs);
    req.on('error', (e) => finish(new EdgennError('IO', `artifact download failed: ${e.message}`, { file: ref })));
    req.end();
  });
}

/** The bytes of the artifact at ref (file:// or loopback http://); EdgennError ARG/IO/LIMIT. */
export async function fetchArtifact(ref: string, opts: FetchOptions = {}): Promise<Uint8Array> {
  const max = opts.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    throw new EdgennError('ARG', 'artifact reference is not a URL', { file: ref, expected: 'file:///path or http://127.0.0.1:PORT/path' });
  }
  if (url.protocol === 'file:') return fetchFile(url, ref, max, opts.fileRoots);
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname)) {
    if (url.username !== '' || url.password !== '') throw new EdgennError('ARG', 'artifact URLs carry no credentials', { file: url.origin });
    return fetchHttp(url, ref, max, timeoutMs);
  }
  throw new EdgennError('UNSUPPORTED', 'artifact reference scheme or host not allowed', {
    file: `${url.protocol}//${url.host}`, expected: 'file:///path or http://127.0.0.1[:PORT]/path (loopback only)',
  });
}
