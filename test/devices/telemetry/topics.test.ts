// Topic building and parsing (topics.ts). Exact string equality: topics are identifiers.
import { describe, expect, it } from 'vitest';
import { deviceTopic, deviceTopics, fleetFilter, parseTopic } from '../../../devices/telemetry/topics.js';
import { EdgennError } from '../../../runtime/errors.js';

describe('topics', () => {
  it('builds edgenn/<fleet>/<device>/<kind> for every kind', () => {
    expect(deviceTopics('lab', 'pi-07')).toEqual({
      metrics: 'edgenn/lab/pi-07/metrics',
      status: 'edgenn/lab/pi-07/status',
      events: 'edgenn/lab/pi-07/events',
      cmd: 'edgenn/lab/pi-07/cmd',
      reply: 'edgenn/lab/pi-07/reply',
    });
    expect(fleetFilter('lab')).toBe('edgenn/lab/+/#');
  });

  it('rejects names that would change what a subscription matches', () => {
    for (const bad of ['a/b', '+', '#', '', 'x'.repeat(65), 'sp ace', '$SYS', 'nul\0']) {
      expect(() => deviceTopic('lab', bad, 'metrics')).toThrow(EdgennError);
      expect(() => deviceTopic(bad, 'pi', 'metrics')).toThrow(EdgennError);
    }
  });

  it('parses its own topics back and returns null for anything else', () => {
    expect(parseTopic('edgenn/lab/pi-07/metrics')).toEqual({ fleet: 'lab', device: 'pi-07', kind: 'metrics' });
    expect(parseTopic(deviceTopic('f.1', 'd_2', 'reply'))).toEqual({ fleet: 'f.1', device: 'd_2', kind: 'reply' });
    for (const t of ['edgenn/lab/pi/other', 'edgenn/lab/pi', 'other/lab/pi/metrics', 'edgenn/lab/pi/metrics/x', 'edgenn/l+b/pi/metrics']) {
      expect(parseTopic(t)).toBeNull();
    }
  });
});
