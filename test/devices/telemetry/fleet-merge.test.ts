// Fleet-side merge (fleet-merge.ts): de-dup of history by seq, ordering of status by conn, the
// merged row per device. Exact values: the merge copies numbers, it does not compute.
import { describe, expect, it } from 'vitest';
import { FleetMerge } from '../../../devices/telemetry/fleet-merge.js';

const J = (o: object): string => JSON.stringify(o);
const hdr = (device: string, seq: number) => ({ v: 1, seq, ts: 1000 + seq, device });
const metrics = (device: string, seq: number, extra: object = {}) =>
  J({ ...hdr(device, seq), latencyUs: { p50: 10, p95: 20 + seq, p99: 30, max: 40, samples: 5 }, outboxDepth: seq,
      dropped: 0, model: { id: 'm', version: 'v1', hash: 'h' }, ...extra });

describe('FleetMerge', () => {
  it('merges metrics per device and removes duplicates by (device, seq)', () => {
    let clock = 0;
    const m = new FleetMerge('lab', { now: () => ++clock });
    const got: number[] = [];
    m.onRecord((r) => { if (r.kind === 'metrics') got.push(r.record.seq); });
    expect(m.ingest('edgenn/lab/pi1/metrics', metrics('pi1', 1))).toBe('accepted');
    expect(m.ingest('edgenn/lab/pi1/metrics', metrics('pi1', 2, { loss: 0.5, dropped: 3 }))).toBe('accepted');
    expect(m.ingest('edgenn/lab/pi1/metrics', metrics('pi1', 2))).toBe('duplicate');
    expect(m.ingest('edgenn/lab/pi2/metrics', metrics('pi2', 2))).toBe('accepted');
    expect(m.ingest('edgenn/lab/pi1/metrics', metrics('pi1', 3))).toBe('accepted');
    expect(got).toEqual([1, 2, 2, 3]);
    const [a, b] = m.devices();
    expect(a).toMatchObject({ device: 'pi1', p95Us: 23, lastLoss: 0.5, outboxDepth: 3, lastSeq: 3, dropped: 3, modelVersion: 'v1', lastSeen: 4 });
    expect(b).toMatchObject({ device: 'pi2', lastSeq: 2, lastLoss: null, online: null });
    expect(m.counts).toEqual({ received: 5, accepted: 4, duplicates: 1, stale: 0, invalid: 0 });
  });

  it('rejects malformed payloads, foreign fleets and a device name that contradicts the topic', () => {
    const m = new FleetMerge('lab');
    expect(m.ingest('edgenn/other/pi1/metrics', metrics('pi1', 1))).toBe('foreign');
    expect(m.ingest('edgenn/lab/pi1/cmd', '{}')).toBe('foreign');
    expect(m.ingest('edgenn/lab/pi1/metrics', 'not json')).toBe('invalid');
    expect(m.ingest('edgenn/lab/pi1/metrics', J({ v: 2, seq: 1, ts: 1, device: 'pi1' }))).toBe('invalid');
    expect(m.ingest('edgenn/lab/pi1/metrics', J({ v: 1, seq: 0, ts: 1, device: 'pi1' }))).toBe('invalid');
    expect(m.ingest('edgenn/lab/pi1/metrics', metrics('pi9', 1))).toBe('invalid');
    expect(m.devices()).toEqual([]);
  });

  it('orders status by connection: a stale will cannot mark a reconnected device offline', () => {
    const m = new FleetMerge('lab');
    const st = (seq: number, conn: number, state: string) => J({ ...hdr('pi1', seq), state, conn, model: { id: 'm', version: `v${conn}`, hash: 'h' } });
    expect(m.ingest('edgenn/lab/pi1/status', st(11, 10, 'online'))).toBe('accepted');   // conn 10 online
    expect(m.devices()[0]!.online).toBe(true);
    expect(m.ingest('edgenn/lab/pi1/status', st(11, 10, 'online'))).toBe('duplicate');  // retained re-delivery
    expect(m.ingest('edgenn/lab/pi1/status', st(10, 10, 'offline'))).toBe('accepted');  // its will (older seq!)
    expect(m.devices()[0]!.online).toBe(false);
    expect(m.ingest('edgenn/lab/pi1/status', st(51, 50, 'online'))).toBe('accepted');   // reconnect
    expect(m.ingest('edgenn/lab/pi1/status', st(10, 10, 'offline'))).toBe('duplicate'); // late old will
    expect(m.devices()[0]).toMatchObject({ online: true, modelVersion: 'v50' });
    expect(m.ingest('edgenn/lab/pi1/status', J({ ...hdr('pi1', 60), state: 'sleeping', conn: 50 }))).toBe('invalid');
  });
});
