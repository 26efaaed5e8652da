// Telemetry for the agent from its config: with a broker, devices/telemetry's startTelemetry (TLS
// files read here, the password from the config or its file), imported only then, so that an
// agent without a broker never evaluates mqtt.js (start-telemetry.ts); without one, the same parts
// (seq counter, outbox, ring, publisher) over a transport that never connects, so records pile up
// in the bounded on-disk outbox and are sent once the device is configured with a broker and
// restarted. The report timer belongs to the agent (setReportInterval can change it at run time);
// the publisher's own timer is parked at its maximum.
//
// It is not the publisher; nothing here touches the wire format.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { MetricRing } from '../telemetry/metric-ring.js';
import type { ConnectInfo, MessageProperties, PublishOptions, Transport } from '../telemetry/mqtt-transport.js';
import { Outbox } from '../telemetry/outbox.js';
import { Publisher, telemetryOf, type Telemetry } from '../telemetry/publisher.js';
import type { ModelInfo } from '../telemetry/schema.js';
import { SeqCounter } from '../telemetry/seq.js';
import { brokerPassword, type AgentConfig } from './config.js';

/** setInterval's largest delay (2^31 - 1 ms, ~24.8 days): the publisher's own timer, parked. */
export const PARKED_INTERVAL_MS = 2_147_483_647;

/** A transport for a device without a broker: never connects, refuses publishes. */
export class OfflineTransport implements Transport {
  readonly connected = false;
  readonly protocolVersion = null;
  start(): void { /* nothing to connect to */ }
  publish(_topic: string, _payload: string | Buffer, _opts: PublishOptions): Promise<void> {
    return Promise.reject(new EdgennError('STATE', 'offline: no broker configured'));
  }
  subscribe(): Promise<void> { return Promise.resolve(); }
  onConnect(_cb: (info: ConnectInfo) => void): void { /* never connects */ }
  onClose(_cb: () => void): void { /* never connects */ }
  onMessage(_cb: (topic: string, payload: Buffer, props: MessageProperties) => void): void { /* never receives */ }
  end(): Promise<void> { return Promise.resolve(); }
}

export interface AgentTelemetryOptions {
  readonly model: () => ModelInfo;
  readonly agentVersion: string;
  readonly arenaBytes: () => number;
  readonly layerNames: readonly string[];
  readonly log: (line: string) => void;
  /** Outbox bound; default the telemetry default (8 MiB). */
  readonly outboxMaxBytes?: number;
}

function readPem(file: string, key: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new EdgennError('IO', `cannot read ${key}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { file });
  }
}

export async function startAgentTelemetry(cfg: AgentConfig, o: AgentTelemetryOptions): Promise<Telemetry> {
  const b = cfg.broker;
  if (b !== null) {
    const password = brokerPassword(b);
    const { startTelemetry } = await import('../telemetry/start-telemetry.js');
    return startTelemetry({
      fleet: cfg.fleet, device: cfg.device, stateDir: cfg.stateDir,
      mqtt: {
        url: b.url, protocol: b.protocol, keepaliveSec: b.keepaliveSec,
        ...(b.clientId !== undefined ? { clientId: b.clientId } : {}),
        ...(b.ca !== undefined ? { ca: readPem(b.ca, 'broker.tls.ca') } : {}),
        ...(b.cert !== undefined ? { cert: readPem(b.cert, 'broker.tls.cert') } : {}),
        ...(b.key !== undefined ? { key: readPem(b.key, 'broker.tls.key') } : {}),
        ...(b.username !== undefined ? { username: b.username } : {}),
        ...(password !== undefined ? { password } : {}),
      },
      model: o.model, agentVersion: o.agentVersion, arenaBytes: o.arenaBytes,
      reportIntervalMs: PARKED_INTERVAL_MS, layerNames: o.layerNames, log: o.log,
      ...(o.outboxMaxBytes !== undefined ? { outboxMaxBytes: o.outboxMaxBytes } : {}),
    });
  }
  fs.mkdirSync(cfg.stateDir, { recursive: true });
  const seq = SeqCounter.open(path.join(cfg.stateDir, 'seq.json'));
  const outbox = Outbox.open({ dir: path.join(cfg.stateDir, 'outbox'), ...(o.outboxMaxBytes !== undefined ? { maxBytes: o.outboxMaxBytes } : {}) });
  const transport = new OfflineTransport();
  const ring = new MetricRing({ layerNames: o.layerNames });
  const publisher = new Publisher({
    fleet: cfg.fleet, device: cfg.device, transport, outbox, seq, ring,
    model: o.model, agentVersion: o.agentVersion, arenaBytes: o.arenaBytes,
    reportIntervalMs: PARKED_INTERVAL_MS, log: o.log,
  });
  publisher.start();
  return telemetryOf(publisher, outbox, transport, seq);
}
