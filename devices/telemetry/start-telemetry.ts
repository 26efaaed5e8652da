// Telemetry from one config: opens the state directory (seq high-water mark, outbox), creates the
// MQTT transport with the status Last Will, and starts the publisher (publisher.ts).
//
// A file of its own because it is the one place telemetry reaches mqtt.js (through
// mqtt-transport.ts): an agent without a broker (devices/agent/agent-telemetry.ts) imports it only
// when a broker is configured, so the offline agent never evaluates the MQTT client (~2.5 MB of
// RSS on Node 18; docs/raspberry-pi.md "Memory").

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { MetricRing } from './metric-ring.js';
import { createMqttTransport, type TransportOptions } from './mqtt-transport.js';
import { Outbox, type FsyncPolicy } from './outbox.js';
import { Publisher, createStatusWill, telemetryOf, type Telemetry } from './publisher.js';
import type { ModelInfo, OutboxKind } from './schema.js';
import { SeqCounter } from './seq.js';
import { deviceTopics } from './topics.js';

export interface TelemetryConfig {
  readonly fleet: string;
  readonly device: string;
  /** Holds outbox/ and seq.json. */
  readonly stateDir: string;
  readonly mqtt: Omit<TransportOptions, 'will' | 'clientId'> & { readonly clientId?: string };
  readonly model: () => ModelInfo;
  readonly agentVersion: string;
  readonly arenaBytes?: () => number;
  readonly reportIntervalMs?: number;
  readonly inflightWindow?: number;
  readonly outboxMaxBytes?: number;
  readonly outboxSegmentBytes?: number;
  readonly fsync?: FsyncPolicy;
  /** How often the outbox ack cursor is saved (ms); see outbox.ts. */
  readonly cursorSaveMs?: number;
  readonly ringCapacity?: number;
  readonly layerNames?: readonly string[];
  readonly seqBlock?: number;
  readonly onAppend?: (kind: OutboxKind, seq: number) => void;
  readonly log?: (line: string) => void;
}

/** Opens the state directory (seq high-water mark, outbox), creates the MQTT transport with the
 * status Last Will, and starts publishing. */
export function startTelemetry(c: TelemetryConfig): Telemetry {
  try {
    fs.mkdirSync(c.stateDir, { recursive: true });
  } catch (e) {
    throw new EdgennError('IO', `cannot create telemetry state directory: ${(e as Error).message}`, { file: c.stateDir });
  }
  const seq = SeqCounter.open(path.join(c.stateDir, 'seq.json'), c.seqBlock);
  const outbox = Outbox.open({
    dir: path.join(c.stateDir, 'outbox'),
    ...(c.outboxMaxBytes !== undefined ? { maxBytes: c.outboxMaxBytes } : {}),
    ...(c.outboxSegmentBytes !== undefined ? { segmentBytes: c.outboxSegmentBytes } : {}),
    ...(c.fsync !== undefined ? { fsync: c.fsync } : {}),
    ...(c.cursorSaveMs !== undefined ? { cursorSaveMs: c.cursorSaveMs } : {}),
  });
  const topics = deviceTopics(c.fleet, c.device);
  const will = createStatusWill(topics, c.device, seq);
  const transport = createMqttTransport({
    ...c.mqtt,
    clientId: c.mqtt.clientId ?? `edgenn-${c.fleet}-${c.device}`,
    will: will.make,
    ...(c.log !== undefined ? { log: c.log } : {}),
  });
  const ring = new MetricRing({
    ...(c.ringCapacity !== undefined ? { capacity: c.ringCapacity } : {}),
    ...(c.layerNames !== undefined ? { layerNames: c.layerNames } : {}),
  });
  const publisher = new Publisher({
    fleet: c.fleet, device: c.device, transport, outbox, seq, ring, will,
    model: c.model, agentVersion: c.agentVersion,
    ...(c.arenaBytes !== undefined ? { arenaBytes: c.arenaBytes } : {}),
    ...(c.reportIntervalMs !== undefined ? { reportIntervalMs: c.reportIntervalMs } : {}),
    ...(c.inflightWindow !== undefined ? { inflightWindow: c.inflightWindow } : {}),
    ...(c.onAppend !== undefined ? { onAppend: c.onAppend } : {}),
    ...(c.log !== undefined ? { log: c.log } : {}),
  });
  publisher.start();
  return telemetryOf(publisher, outbox, transport, seq);
}
