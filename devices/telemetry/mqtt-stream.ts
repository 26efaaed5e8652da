// The byte stream under an MQTT connection for mqtt:/tcp: (TCP) and mqtts:/tls:/ssl: (TLS)
// broker URLs, built here and handed to mqtt.js' MqttClient (mqtt-transport.ts) instead of going
// through mqtt.connect(). mqtt.connect() fills its protocol table on first use by evaluating every
// transport it has: WebSocket (ws) and SOCKS (socks, ip-address, smart-buffer), ~120 KB of
// minified code and ~0.5 MB of RSS on a device that speaks plain TCP or TLS
// (docs/raspberry-pi.md "Memory"). ws:/wss: URLs still go through mqtt.connect().
//
// What mqtt.connect() does for these schemes, and so what this does: default ports 1883 (TCP)
// and 8883 (TLS); a user name and password in the URL (percent-decoded) when the options give
// none; a client certificate and key given with a mqtt:/tcp: URL upgrade it to TLS; TLS verifies
// the broker's certificate (rejectUnauthorized, SNI with the host name unless it is an IP
// address) and a TLS error is reported on the client and ends the socket. Not here: mqtt.js'
// MQTTJS_SOCKS_PROXY environment variable (no SOCKS proxy on a device).
//
// It is not the MQTT protocol: only sockets. No other file imports node:net/node:tls for MQTT.

import { createRequire } from 'node:module';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type * as Tls from 'node:tls';

/** node:tls is evaluated only when a broker URL asks for TLS: on Node 18 it costs ~0.5 MB of heap
 * (its secure-context and socket-wrapping modules) in a process that never uses it. */
// NOTE: only built-in modules are required through it, which resolve without a base path; a
// fixed one keeps this file free of import.meta.url, which a CommonJS bundle may not define.
const requireBuiltin = createRequire('/');
let tlsModule: typeof Tls | null = null;
function tls(): typeof Tls {
  tlsModule ??= requireBuiltin('node:tls') as typeof Tls;
  return tlsModule;
}

/** How a broker URL is reached, or null for a scheme that is not plain TCP or TLS (ws:, wss:). */
export interface BrokerEndpoint {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  /** from the URL's user info, percent-decoded; undefined when it has none */
  readonly username?: string;
  readonly password?: string;
}

const TCP_SCHEMES = new Set(['mqtt:', 'tcp:']);
const TLS_SCHEMES = new Set(['mqtts:', 'tls:', 'ssl:']);

/** Parses a broker URL; null for other schemes. Throws on a URL that does not parse. */
export function brokerEndpoint(url: string, clientCert: boolean): BrokerEndpoint | null {
  const u = new URL(url);
  const isTls = TLS_SCHEMES.has(u.protocol) || (clientCert && TCP_SCHEMES.has(u.protocol));
  if (!isTls && !TCP_SCHEMES.has(u.protocol)) return null;
  // WHATWG URL keeps an IPv6 host in brackets; sockets want it bare
  const host = u.hostname.startsWith('[') && u.hostname.endsWith(']') ? u.hostname.slice(1, -1) : u.hostname;
  return {
    tls: isTls,
    host: host === '' ? 'localhost' : host,
    port: u.port !== '' ? Number(u.port) : isTls ? 8883 : 1883,
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
  };
}

export interface StreamTls {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

/** What MqttClient calls for every connection: a fresh socket to the endpoint. `emitError`
 * reports a TLS failure on the client (as mqtt.js' own TLS builder does). */
export function streamBuilder(e: BrokerEndpoint, t: StreamTls, emitError: (err: Error) => void): () => Duplex {
  if (!e.tls) return () => net.createConnection({ host: e.host, port: e.port });
  return () => {
    const socket = tls().connect({
      host: e.host, port: e.port,
      ...(net.isIP(e.host) === 0 ? { servername: e.host } : {}),
      ...(t.ca !== undefined ? { ca: t.ca } : {}),
      ...(t.cert !== undefined ? { cert: t.cert } : {}),
      ...(t.key !== undefined ? { key: t.key } : {}),
      rejectUnauthorized: true,
    });
    const onTlsError = (err: Error): void => {
      emitError(err);
      socket.end();
    };
    socket.on('error', onTlsError);
    socket.on('secureConnect', () => {
      if (!socket.authorized) socket.emit('error', new Error(`TLS not authorized: ${String(socket.authorizationError)}`));
      else socket.removeListener('error', onTlsError);
    });
    return socket;
  };
}
