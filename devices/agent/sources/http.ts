// The local endpoint for other processes on the board (`{"kind": "http", "port": 8080}` on
// 127.0.0.1, or `{"kind": "http", "socket": "/run/edgenn/agent.sock"}`):
//   POST /infer      body {"id"?, "x": [...]}            → 200 {"id"?, "y": [...], "ms"}
//   POST /sample     body {"id"?, "x": [...], "label": L} → 200 {"id"?, "ok": true, "buffered", "dropped"}
//   POST /fine-tune  (no body)                            → 200 the fine-tune outcome
//   GET  /health                                         → 200 {"ok": true, "device", "model", ...}
//   GET  /metrics                                        → 200 cumulative counters (JSON)
// Bad JSON or a bad request → 400 {"error"}; a body over maxBodyBytes → 413; unknown path → 404;
// wrong method → 405. Formats as protocol.ts.
//
// It is not authenticated: it listens on loopback or a Unix socket (mode 0660) only; the config
// validator refuses other hosts.

import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EdgennError } from '../../../runtime/errors.js';
import { serveRequest, type ServingPort } from '../protocol.js';

export interface HttpPort extends ServingPort {
  health(): Record<string, unknown>;
  metrics(): Record<string, unknown>;
  fineTune(): Promise<unknown>;
}

export type HttpListen = { readonly host: string; readonly port: number } | { readonly socket: string };

export interface HttpSource {
  /** "http://127.0.0.1:PORT" or "unix:PATH". */
  readonly address: string;
  readonly port: number | null;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export function startHttpSource(listen: HttpListen, port: HttpPort, maxBodyBytes: number): Promise<HttpSource> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const route = `${req.method ?? ''} ${url}`;
    const known = ['/infer', '/sample', '/fine-tune', '/health', '/metrics'];
    if (!known.includes(url ?? '')) { send(res, 404, `{"error":"no such path; use POST /infer, POST /sample, POST /fine-tune, GET /health, GET /metrics"}`); req.resume(); return; }
    if (route === 'GET /health') { send(res, 200, JSON.stringify(port.health())); req.resume(); return; }
    if (route === 'GET /metrics') { send(res, 200, JSON.stringify(port.metrics())); req.resume(); return; }
    if (route === 'POST /fine-tune') {
      req.resume();
      port.fineTune().then(
        (r) => send(res, 200, JSON.stringify(r)),
        (e: Error) => send(res, 409, JSON.stringify({ error: e.message })),
      );
      return;
    }
    if (req.method !== 'POST' || (url !== '/infer' && url !== '/sample')) {
      send(res, 405, JSON.stringify({ error: `method ${req.method ?? '?'} not allowed on ${url ?? '/'}` }));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      if (tooBig) return;
      size += c.length;
      if (size > maxBodyBytes) { tooBig = true; chunks.length = 0; return; }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) { send(res, 413, JSON.stringify({ error: `body larger than ${maxBodyBytes} bytes` })); return; }
      let v: unknown;
      try {
        v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        send(res, 400, '{"error":"body is not valid JSON"}');
        return;
      }
      const hasLabel = typeof v === 'object' && v !== null && 'label' in v;
      if (url === '/infer' && hasLabel) { send(res, 400, '{"error":"a labelled sample goes to POST /sample"}'); return; }
      if (url === '/sample' && !hasLabel) { send(res, 400, '{"error":"POST /sample needs a label"}'); return; }
      const r = serveRequest(port, v);
      send(res, r.ok ? 200 : 400, r.text);
    });
    req.on('error', () => { /* the client went away; nothing to answer */ });
  });
  server.keepAliveTimeout = 5000;
  return new Promise<HttpSource>((resolve, reject) => {
    server.once('error', (e) => {
      const where = 'socket' in listen ? listen.socket : `${listen.host}:${listen.port}`;
      reject(new EdgennError('IO', `local endpoint cannot listen: ${e.message}`, { node: where }));
    });
    const done = (address: string, p: number | null): void => resolve({
      address, port: p,
      close: () => new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections?.();
      }),
    });
    if ('socket' in listen) {
      // A socket file left by a killed agent would make listen fail with EADDRINUSE.
      try { if (fs.statSync(listen.socket).isSocket()) fs.unlinkSync(listen.socket); } catch { /* none */ }
      server.listen(listen.socket, () => {
        try { fs.chmodSync(listen.socket, 0o660); } catch { /* best effort */ }
        done(`unix:${listen.socket}`, null);
      });
    } else {
      server.listen(listen.port, listen.host, () => {
        const a = server.address() as AddressInfo;
        done(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, a.port);
      });
    }
  });
}
