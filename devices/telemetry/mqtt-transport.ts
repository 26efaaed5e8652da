// The one door of npm `mqtt` (mqtt.js 5) into edgenn. Everything else in telemetry talks to the
// small `Transport` interface below, so it can be tested with a fake and mqtt.js can be swapped.
//
// What this adds over a bare mqtt.js client:
//   - one mqtt.js client per connection attempt (reconnectPeriod 0) and our own reconnect loop
//     with back-off: mqtt.js' offline queue and in-memory re-send store are never used, because
//     the durable outbox is the only queue (two queues would re-order and double-send);
//   - MQTT 5 first, falling back to 3.1.1 when the broker refuses the protocol (CONNACK 0x01
//     "unacceptable protocol version" or v5 reason 0x84 "unsupported protocol version") or drops
//     the TCP connection before any CONNACK; the fallback sticks for the transport's life;
//   - publish() returns a promise settled by the PUBACK (QoS 1) and rejected when the connection
//     closes first, so a record is only ever acknowledged by the broker;
//   - subscriptions are remembered and re-made after every reconnect;
//   - the Last Will is computed per connection attempt (it carries a fresh seq and timestamp);
//   - secrets (password, private key, URL password) are scrubbed from every log line and error;
//   - TCP and TLS sockets are made by mqtt-stream.ts (mqtt.connect() would also evaluate its
//     WebSocket and SOCKS code); ws:/wss: URLs still go through mqtt.connect();
//   - the two MQTT 5 request/response properties (response topic, correlation data) pass through
//     both ways: a received message carries them to onMessage, publish() sends them. On a 3.1.1
//     connection there are none: received messages carry {} and publish() leaves them out (the
//     protocol has no place for them), so callers need no branch on the protocol.
//
// It is not a broker client for arbitrary use: QoS 2, topic aliases, shared subscriptions and the
// other MQTT 5 properties (user properties, content type, expiry) are deliberately absent.

import mqtt from 'mqtt';
import type { IClientOptions, IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt';
import { EdgennError } from '../../runtime/errors.js';
import { brokerEndpoint, streamBuilder } from './mqtt-stream.js';
import { redactText, redactUrl, secretsOf } from './redact.js';

export type QoS = 0 | 1;

export interface WillMessage {
  readonly topic: string;
  readonly payload: string | Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
}

export interface TransportOptions {
  /** mqtt://host:port or mqtts://host:port (TLS). */
  readonly url: string;
  readonly clientId: string;
  /** TLS: trusted CA, client certificate and private key (PEM). */
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly username?: string;
  readonly password?: string | Buffer;
  /** Called before every connection attempt; the broker publishes it if the connection dies. */
  readonly will?: () => WillMessage;
  /** false: keep the broker session (subscriptions, queued QoS 1) across reconnects. Default true. */
  readonly clean?: boolean;
  /** MQTT 5 session expiry for clean: false sessions, seconds. Default 7 days. */
  readonly sessionExpirySec?: number;
  /** 'auto' (default): 5, then 3.1.1 if refused. */
  readonly protocol?: 'auto' | 5 | 4;
  readonly keepaliveSec?: number;
  readonly connectTimeoutMs?: number;
  /** Reconnect back-off: starts at min, doubles per failed attempt, capped at max. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Receives redacted log lines. Default: none. */
  readonly log?: (line: string) => void;
}

export interface ConnectInfo {
  readonly protocolVersion: 4 | 5;
  readonly sessionPresent: boolean;
}

/** The MQTT 5 request/response properties (spec 3.3.2.3.5 and .6); never present on 3.1.1. */
export interface MessageProperties {
  /** Where the sender wants the answer published. */
  readonly responseTopic?: string;
  /** Opaque bytes the sender uses to match the answer to its request; echoed unchanged. */
  readonly correlationData?: Buffer;
}

export interface PublishOptions {
  readonly qos: QoS;
  readonly retain?: boolean;
  /** Sent on an MQTT 5 connection, silently left out on 3.1.1. */
  readonly properties?: MessageProperties;
}

/** What a 3.1.1 message (or a v5 one without those properties) carries. */
const NO_PROPERTIES: MessageProperties = Object.freeze({});

/** The seam: what the rest of telemetry needs from an MQTT connection. */
export interface Transport {
  readonly connected: boolean;
  /** Protocol of the current (or last) connection; null before the first CONNACK. */
  readonly protocolVersion: 4 | 5 | null;
  /** Starts connecting; reconnects on its own until end(). */
  start(): void;
  /** Resolves on PUBACK (QoS 1) or once written (QoS 0); rejects if not connected or if the
   * connection closes first, or if the broker answers with an error reason code. */
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void>;
  /** Remembers the subscription and makes it now (if connected) and after every reconnect.
   * Resolves on SUBACK, or at once when not connected. */
  subscribe(filter: string, qos: QoS): Promise<void>;
  onConnect(cb: (info: ConnectInfo) => void): void;
  onClose(cb: () => void): void;
  /** `props` holds the MQTT 5 response topic / correlation data when the message had them. */
  onMessage(cb: (topic: string, payload: Buffer, props: MessageProperties) => void): void;
  /** Closes for good. Pending publishes are rejected. */
  end(): Promise<void>;
}

/** The MQTT CONNACK codes that mean "speak an older protocol". */
function isProtocolRefusal(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 1 || code === 132;
}

/** A refused CONNACK: mqtt.js reports its reason code as a numeric `code` (socket errors carry
 * string codes such as 'ECONNRESET'). */
function isConnackRefusal(e: unknown): boolean {
  return typeof (e as { code?: unknown }).code === 'number';
}

/** The two request/response properties of a received v5 PUBLISH; the rest are not surfaced. */
function propertiesOf(p: IPublishPacket['properties']): MessageProperties {
  if (p === undefined) return NO_PROPERTIES;
  const rt = p.responseTopic;
  const cd = p.correlationData;
  if (rt === undefined && cd === undefined) return NO_PROPERTIES;
  return {
    ...(typeof rt === 'string' ? { responseTopic: rt } : {}),
    ...(cd !== undefined ? { correlationData: Buffer.from(cd) } : {}),
  };
}

export function createMqttTransport(opts: TransportOptions): Transport {
  return new MqttTransport(opts);
}

class MqttTransport implements Transport {
  private readonly secrets: string[];
  private version: 4 | 5;
  private client: MqttClient | null = null;
  private isConnected = false;
  private lastVersion: 4 | 5 | null = null;
  private started = false;
  private ended = false;
  private backoffMs: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<(err: Error | null) => void>();
  private readonly subs = new Map<string, QoS>();
  private readonly connectCbs: Array<(info: ConnectInfo) => void> = [];
  private readonly closeCbs: Array<() => void> = [];
  private readonly messageCbs: Array<(topic: string, payload: Buffer, props: MessageProperties) => void> = [];

  constructor(private readonly opts: TransportOptions) {
    this.secrets = secretsOf({ url: opts.url, password: opts.password, key: opts.key });
    this.version = opts.protocol === 4 ? 4 : 5;
    this.backoffMs = opts.reconnectMinMs ?? 500;
  }

  get connected(): boolean { return this.isConnected; }
  get protocolVersion(): 4 | 5 | null { return this.lastVersion; }

  private log(line: string): void {
    this.opts.log?.(redactText(line, this.secrets));
  }

  /** Every error that leaves the transport goes through here: an EdgennError with secrets removed. */
  private wrap(e: unknown, what: string): EdgennError {
    const msg = e instanceof Error ? e.message : String(e);
    return new EdgennError('IO', redactText(`${what}: ${msg}`, this.secrets), { node: redactUrl(this.opts.url) });
  }

  start(): void {
    if (this.started || this.ended) return;
    this.started = true;
    this.attempt();
  }

  private attempt(): void {
    this.timer = null;
    if (this.ended) return;
    const version = this.version;
    const o = this.opts;
    const will = o.will?.();
    const clean = o.clean ?? true;
    const options: IClientOptions = {
      protocolVersion: version,
      clientId: o.clientId,
      clean,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      keepalive: o.keepaliveSec ?? 30,
      queueQoSZero: false,
      resubscribe: false,
      // NOTE: mqtt.js otherwise builds a cache of 65 536 small Buffers (packet-id encodings) on
      // its first send: ~10 MB of RSS on a 512 MB board, to save a few bytes per publish.
      writeCache: false,
    };
    if (o.ca !== undefined) options.ca = o.ca;
    if (o.cert !== undefined) options.cert = o.cert;
    if (o.key !== undefined) options.key = o.key;
    if (o.username !== undefined) options.username = o.username;
    if (o.password !== undefined) options.password = o.password;
    if (will !== undefined) {
      options.will = { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain };
    }
    // NOTE: in MQTT 5 a clean:false session with expiry 0 still ends at disconnect.
    if (version === 5 && !clean) options.properties = { sessionExpiryInterval: o.sessionExpirySec ?? 7 * 24 * 3600 };

    this.log(`connecting to ${redactUrl(o.url)} as ${o.clientId} with MQTT ${version === 5 ? '5' : '3.1.1'}`);
    let client: MqttClient;
    try {
      const ep = brokerEndpoint(o.url, o.cert !== undefined && o.key !== undefined);
      if (ep === null) {
        client = mqtt.connect(o.url, options); // ws:, wss:
      } else {
        if (options.username === undefined && ep.username !== undefined) {
          options.username = ep.username;
          if (ep.password !== undefined) options.password = ep.password;
        }
        const c: MqttClient = new mqtt.MqttClient(streamBuilder(ep, o, (err) => c.emit('error', err)), options);
        client = c;
      }
    } catch (e) {
      this.log(`connect failed: ${this.wrap(e, 'connect').message}`);
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    let tcpUp = false;
    let connacked = false;
    let refusedProtocol = false;
    /** the broker answered this MQTT 5 CONNECT with a CONNACK error other than "unsupported
     * protocol version" (e.g. 0x86 bad user name or password): it speaks 5, no fallback */
    let answeredV5 = false;
    const stream = (client as unknown as { stream?: { once?: (ev: string, f: () => void) => void } }).stream;
    stream?.once?.('connect', () => { tcpUp = true; });
    stream?.once?.('secureConnect', () => { tcpUp = true; });

    client.on('connect', (connack) => {
      if (this.client !== client) return;
      connacked = true;
      this.isConnected = true;
      this.lastVersion = version;
      this.backoffMs = o.reconnectMinMs ?? 500;
      const info: ConnectInfo = { protocolVersion: version, sessionPresent: connack.sessionPresent };
      this.log(`connected with MQTT ${version === 5 ? '5' : '3.1.1'}${info.sessionPresent ? ' (session present)' : ''}`);
      for (const [filter, qos] of this.subs) {
        client.subscribe(filter, { qos }, (err) => {
          if (err) this.log(`resubscribe ${filter} failed: ${this.wrap(err, 'subscribe').message}`);
        });
      }
      for (const cb of this.connectCbs) cb(info);
    });
    client.on('error', (e) => {
      if (this.client !== client) return;
      if (!connacked && version === 5) {
        if (isProtocolRefusal(e)) refusedProtocol = true;
        else if (isConnackRefusal(e)) answeredV5 = true;
      }
      this.log(`error: ${this.wrap(e, 'mqtt').message}`);
    });
    client.on('message', (topic, payload, packet) => {
      if (this.client !== client) return;
      const props = version === 5 ? propertiesOf(packet.properties) : NO_PROPERTIES;
      for (const cb of this.messageCbs) cb(topic, payload, props);
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = null;
      const wasConnected = this.isConnected;
      this.isConnected = false;
      const err = new EdgennError('STATE', 'connection closed before PUBACK', { node: redactUrl(o.url) });
      for (const settle of [...this.pending]) settle(err);
      client.end(true);
      let fallback = false;
      if (version === 5 && this.opts.protocol !== 5 && !connacked && (refusedProtocol || (tcpUp && !answeredV5))) {
        // NOTE: a v3-only broker either answers CONNACK 0x01 or just drops the connection; a
        // broker that is merely down never completes TCP, so ECONNREFUSED does not trigger this.
        this.version = 4;
        fallback = true;
        this.log('broker refused MQTT 5; falling back to MQTT 3.1.1');
      }
      if (wasConnected) {
        this.log('connection closed');
        for (const cb of this.closeCbs) cb();
      }
      if (fallback) this.timer = setTimeout(() => this.attempt(), 0);
      else this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.ended || this.timer !== null) return;
    const jitter = 0.8 + 0.4 * Math.random(); // spread a fleet's reconnects after a broker restart
    const delay = Math.round(this.backoffMs * jitter);
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.reconnectMaxMs ?? 30_000);
    this.timer = setTimeout(() => this.attempt(), delay);
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    const client = this.client;
    if (client === null || !this.isConnected) {
      return Promise.reject(new EdgennError('STATE', 'not connected', { node: redactUrl(this.opts.url) }));
    }
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const settle = (err: Error | null): void => {
        if (done) return;
        done = true;
        this.pending.delete(settle);
        if (err === null) resolve(); else reject(err);
      };
      this.pending.add(settle);
      const p = opts.properties;
      const pubOpts: IClientPublishOptions = { qos: opts.qos, retain: opts.retain ?? false };
      // Properties exist only in MQTT 5; on a 3.1.1 connection they are left out here rather than
      // relying on mqtt.js' encoder to skip them.
      if (p !== undefined && this.lastVersion === 5) {
        const props: NonNullable<IClientPublishOptions['properties']> = {};
        if (p.responseTopic !== undefined) props.responseTopic = p.responseTopic;
        if (p.correlationData !== undefined) props.correlationData = p.correlationData;
        pubOpts.properties = props;
      }
      client.publish(topic, payload, pubOpts, (err) => {
        settle(err ? this.wrap(err, `publish ${topic}`) : null);
      });
    });
  }

  subscribe(filter: string, qos: QoS): Promise<void> {
    this.subs.set(filter, qos);
    const client = this.client;
    if (client === null || !this.isConnected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      client.subscribe(filter, { qos }, (err) => {
        if (err) reject(this.wrap(err, `subscribe ${filter}`)); else resolve();
      });
    });
  }

  onConnect(cb: (info: ConnectInfo) => void): void { this.connectCbs.push(cb); }
  onClose(cb: () => void): void { this.closeCbs.push(cb); }
  onMessage(cb: (topic: string, payload: Buffer, props: MessageProperties) => void): void { this.messageCbs.push(cb); }

  end(): Promise<void> {
    this.ended = true;
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    const client = this.client;
    this.client = null;
    const wasConnected = this.isConnected;
    this.isConnected = false;
    const err = new EdgennError('STATE', 'transport ended before PUBACK', { node: redactUrl(this.opts.url) });
    for (const settle of [...this.pending]) settle(err);
    if (wasConnected) for (const cb of this.closeCbs) cb();
    if (client === null) return Promise.resolve();
    if (!wasConnected) { client.end(true); return Promise.resolve(); }
    // A graceful DISCONNECT: the broker does not publish the Last Will.
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => { client.end(true); resolve(); }, 2000);
      client.end(false, () => { clearTimeout(t); resolve(); });
    });
  }
}
