// Artifacts by reference: file:// (optionally confined to folders, symlinks resolved) and loopback
// http:// only; size bounded before allocation (file size, Content-Length) and while streaming;
// the download bounded in time; redirects and other hosts refused. Exact checks, no tolerances
// (the timeout test bounds wall time loosely: 2 s for a 200 ms deadline, for slow CI machines).
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgennError } from '../../../runtime/errors.js';
import { fetchArtifact } from '../../../devices/updates/fetch.js';
import { signArtifact, verifyArtifact } from '../../../devices/updates/artifact.js';
import { generateSigningKeys } from '../../../devices/updates/signing.js';
import { fieldsFor, jsonModel, tempDir } from './support.js';

const keys = generateSigningKeys();
const m = jsonModel(7);
const artifact = signArtifact(m, fieldsFor(m, '7'), keys.privateKey).bytes;
let dir = '';
let server: Server;
let base = '';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EdgennError) return e.code;
    throw e;
  }
  return 'ACCEPTED';
}

beforeAll(async () => {
  dir = tempDir('edgenn-fetch-');
  fs.mkdirSync(path.join(dir, 'allowed'));
  fs.writeFileSync(path.join(dir, 'allowed', 'a.edgennup'), artifact);
  fs.writeFileSync(path.join(dir, 'outside.edgennup'), artifact);
  fs.symlinkSync(path.join(dir, 'outside.edgennup'), path.join(dir, 'allowed', 'link.edgennup'));
  server = createServer((req, res) => {
    switch (req.url) {
      case '/a': res.writeHead(200, { 'content-length': artifact.length }); res.end(artifact); return;
      case '/chunked': // no Content-Length: the limit must hold while streaming
        res.writeHead(200);
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000, i));
        res.end();
        return;
      case '/slow': res.writeHead(200); res.write('x'); return; // never ends
      case '/redirect': res.writeHead(302, { location: 'http://example.com/a' }); res.end(); return;
      default: res.writeHead(404); res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections?.();
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('fetchArtifact', () => {
  it('file:// and loopback http:// return the exact bytes, which then verify', async () => {
    for (const ref of [pathToFileURL(path.join(dir, 'allowed', 'a.edgennup')).href, `${base}/a`]) {
      const b = await fetchArtifact(ref);
      expect(Buffer.from(b).equals(Buffer.from(artifact)), ref).toBe(true);
      expect(verifyArtifact(b, [keys.publicKey], { agentVersion: '0.1.0', source: ref }).manifest.version).toBe('7');
    }
  });

  it('size limits: file size, Content-Length, streamed bytes', async () => {
    const max = artifact.length - 1;
    expect(await codeOf(fetchArtifact(pathToFileURL(path.join(dir, 'outside.edgennup')).href, { maxBytes: max }))).toBe('LIMIT');
    expect(await codeOf(fetchArtifact(`${base}/a`, { maxBytes: max }))).toBe('LIMIT');
    expect(await codeOf(fetchArtifact(`${base}/chunked`, { maxBytes: 5000 }))).toBe('LIMIT');
    expect((await fetchArtifact(`${base}/chunked`, { maxBytes: 10_000 })).length).toBe(10_000);
  });

  it('a download that does not finish times out', async () => {
    const t0 = Date.now();
    expect(await codeOf(fetchArtifact(`${base}/slow`, { timeoutMs: 200 }))).toBe('IO');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('HTTP errors and redirects fail with IO', async () => {
    expect(await codeOf(fetchArtifact(`${base}/missing`))).toBe('IO');
    await expect(fetchArtifact(`${base}/redirect`)).rejects.toThrow(/redirects are not followed/);
    expect(await codeOf(fetchArtifact(pathToFileURL(path.join(dir, 'nope')).href))).toBe('IO');
    expect(await codeOf(fetchArtifact(pathToFileURL(dir).href))).toBe('IO'); // a folder
  });

  it('file references can be confined to folders (symlinks resolved)', async () => {
    const roots = [path.join(dir, 'allowed')];
    expect(await codeOf(fetchArtifact(pathToFileURL(path.join(dir, 'allowed', 'a.edgennup')).href, { fileRoots: roots }))).toBe('ACCEPTED');
    expect(await codeOf(fetchArtifact(pathToFileURL(path.join(dir, 'outside.edgennup')).href, { fileRoots: roots }))).toBe('ARG');
    expect(await codeOf(fetchArtifact(pathToFileURL(path.join(dir, 'allowed', 'link.edgennup')).href, { fileRoots: roots }))).toBe('ARG');
  });

  it('other schemes and hosts are refused without any connection', async () => {
    for (const ref of ['https://127.0.0.1/a', 'http://example.com/a', 'http://10.0.0.1/a', 'http://localhost.evil/a', 'ftp://127.0.0.1/a']) {
      expect(await codeOf(fetchArtifact(ref)), ref).toBe('UNSUPPORTED');
    }
    expect(await codeOf(fetchArtifact('model.edgennup'))).toBe('ARG');
    expect(await codeOf(fetchArtifact('http://user:pw@127.0.0.1/a'))).toBe('ARG');
  });
});
