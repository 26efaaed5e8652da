// `edgenn broker`: a small in-process MQTT 3.1.1 broker (npm `aedes`, which enters edgenn through
// this file only) for a bench, a demo or a lab of a few boards without installing mosquitto.
// In-memory only: retained messages and sessions vanish when it closes. It speaks MQTT 3.1.1 and
// refuses MQTT 5 (CONNACK 0x01), which is what makes the transport fall back.
// It is not for production fleets: no TLS, no authentication, no persistence.

import * as net from 'node:net';
// NOTE: aedes is CommonJS (module.exports = Aedes, Aedes.createBroker = Aedes); from ESM the default
// import is that function, which TypeScript types as the module, hence createBroker.
import aedes from 'aedes';
import { EdgennError } from '../../runtime/errors.js';

export interface EmbeddedBrokerOptions {
  /** Default 127.0.0.1: loopback unless the operator asks for more. */
  readonly host?: string;
  /** Default 1883; 0 picks a free port (see the handle's port). */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 1883;
  const broker = aedes.createBroker();
  const server = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  broker.on('client', (c) => opts.log?.(`client connected: ${c.id}`));
  broker.on('clientDisconnect', (c) => opts.log?.(`client disconnected: ${c.id}`));
  return new Promise<EmbeddedBroker>((resolve, reject) => {
    server.once('error', (e) => {
      broker.close();
      reject(new EdgennError('IO', `embedded broker cannot listen: ${e.message}`, { node: `${host}:${port}` }));
    });
    server.listen(port, host, () => {
      const addr = server.address() as net.AddressInfo;
      opts.log?.(`embedded MQTT 3.1.1 broker on ${host}:${addr.port}`);
      resolve({
        host,
        port: addr.port,
        url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${addr.port}`,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => broker.close(() => done()));
        }),
      });
    });
  });
}
