// The outbox framing of telemetry records (schema.ts): a reply keeps the MQTT 5 route of its cmd
// (response topic, correlation data) on disk; every other record, and a reply without a route, is
// the kind byte plus the JSON exactly as before routes existed. Byte-exact comparisons.
import { describe, expect, it } from 'vitest';
import { decodeOutboxPayload, encodeOutboxPayload, MAX_ROUTE_FIELD_BYTES } from '../../../devices/telemetry/schema.js';

const JSON_BODY = '{"v":1,"seq":7,"ts":1,"device":"pi1","id":"c1","ok":true}';

describe('outbox payloads', () => {
  it('writes records without a route as kind byte + JSON (the pre-route format)', () => {
    for (const [kind, code] of [['metrics', 1], ['events', 2], ['reply', 3]] as const) {
      const p = encodeOutboxPayload(kind, JSON_BODY);
      expect(Array.from(p)).toEqual([code, ...Buffer.from(JSON_BODY)]);
      expect(decodeOutboxPayload(p)).toEqual({ kind, body: Buffer.from(JSON_BODY) });
    }
    // a route on a non-reply, or an empty route, changes nothing
    expect(encodeOutboxPayload('events', JSON_BODY, { correlationData: Buffer.from('x') })[0]).toBe(2);
    expect(encodeOutboxPayload('reply', JSON_BODY, {})[0]).toBe(3);
  });

  it('round-trips a reply route: topic, correlation data, either, binary and non-ASCII', () => {
    const corr = Buffer.from([0, 255, 10, 13, 0]);
    const routes = [
      { responseTopic: 'edgenn/lab/pi1/reply/ops-ü', correlationData: corr },
      { responseTopic: 'edgenn/lab/pi1/reply' },
      { correlationData: corr },
      { correlationData: Buffer.alloc(0) },                       // empty binary data is still data
      { correlationData: Buffer.alloc(MAX_ROUTE_FIELD_BYTES, 7) },
    ];
    for (const route of routes) {
      const p = encodeOutboxPayload('reply', JSON_BODY, route);
      expect(p[0]).toBe(4);
      const d = decodeOutboxPayload(p)!;
      expect(d.kind).toBe('reply');
      expect(d.body.toString('utf8')).toBe(JSON_BODY);
      expect(d.route).toEqual(route);
    }
  });

  it('refuses what it did not write, and route fields longer than a u16', () => {
    expect(decodeOutboxPayload(Buffer.alloc(0))).toBeNull();
    expect(decodeOutboxPayload(Buffer.from([9, 0x7b]))).toBeNull();          // unknown kind
    expect(decodeOutboxPayload(Buffer.from([4]))).toBeNull();                // no flags
    expect(decodeOutboxPayload(Buffer.from([4, 0, 0x7b]))).toBeNull();       // no field flagged
    expect(decodeOutboxPayload(Buffer.from([4, 8, 0x7b]))).toBeNull();       // unknown flag
    expect(decodeOutboxPayload(Buffer.from([4, 1, 5, 0, 0x61]))).toBeNull(); // length past the end
    const good = encodeOutboxPayload('reply', JSON_BODY, { responseTopic: 't', correlationData: Buffer.from('c') });
    expect(decodeOutboxPayload(good.subarray(0, 6))).toBeNull();             // cut inside the 2nd field
    expect(() => encodeOutboxPayload('reply', JSON_BODY, { correlationData: Buffer.alloc(MAX_ROUTE_FIELD_BYTES + 1) }))
      .toThrow(/correlationData too long/);
  });
});
