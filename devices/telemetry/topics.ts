// Topic layout of edgenn telemetry: edgenn/<fleet>/<device>/<kind>. Builds and parses topic names
// and checks the names that go into them. It is not a router and holds no state.
//
// Kinds: metrics (periodic records), status (retained online/offline), events (one-off happenings),
// cmd (fleet -> device commands), reply (device -> fleet answers to cmd).

import { EdgennError } from '../../runtime/errors.js';

export const TOPIC_ROOT = 'edgenn';

export type TopicKind = 'metrics' | 'status' | 'events' | 'cmd' | 'reply';
export const TOPIC_KINDS: readonly TopicKind[] = ['metrics', 'status', 'events', 'cmd', 'reply'];

export interface DeviceTopics {
  readonly metrics: string;
  readonly status: string;
  readonly events: string;
  readonly cmd: string;
  readonly reply: string;
}

// NOTE: '+', '#' and '/' would change what a subscription matches, '\0' is forbidden by MQTT, and
// '$' at the start of a topic is reserved for the broker. A fleet or device name is one level.
const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

export function checkTopicName(what: 'fleet' | 'device', name: string): void {
  if (!NAME_RE.test(name)) {
    throw new EdgennError('ARG', `bad ${what} name for an MQTT topic level`, {
      expected: '1-64 characters of [A-Za-z0-9._-]', actual: JSON.stringify(name),
    });
  }
}

export function deviceTopic(fleet: string, device: string, kind: TopicKind): string {
  checkTopicName('fleet', fleet);
  checkTopicName('device', device);
  return `${TOPIC_ROOT}/${fleet}/${device}/${kind}`;
}

export function deviceTopics(fleet: string, device: string): DeviceTopics {
  return {
    metrics: deviceTopic(fleet, device, 'metrics'),
    status: deviceTopic(fleet, device, 'status'),
    events: deviceTopic(fleet, device, 'events'),
    cmd: deviceTopic(fleet, device, 'cmd'),
    reply: deviceTopic(fleet, device, 'reply'),
  };
}

/** The filter a fleet-side observer subscribes to: every kind of every device of the fleet. */
export function fleetFilter(fleet: string): string {
  checkTopicName('fleet', fleet);
  return `${TOPIC_ROOT}/${fleet}/+/#`;
}

export interface ParsedTopic { readonly fleet: string; readonly device: string; readonly kind: TopicKind }

/** Parses edgenn/<fleet>/<device>/<kind>; null for anything else (never throws: input is remote). */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== TOPIC_ROOT) return null;
  const [, fleet, device, kind] = parts as [string, string, string, string];
  if (!NAME_RE.test(fleet) || !NAME_RE.test(device)) return null;
  if (!(TOPIC_KINDS as readonly string[]).includes(kind)) return null;
  return { fleet, device, kind: kind as TopicKind };
}
