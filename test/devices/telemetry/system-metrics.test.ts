// collectSystemMetrics (system-metrics.ts) with a fake /sys/class/thermal tree.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectSystemMetrics, readCpuTempC } from '../../../devices/telemetry/system-metrics.js';

describe('collectSystemMetrics', () => {
  it('reads memory and load, and the CPU zone temperature in °C', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-thermal-'));
    try {
      for (const [z, type, milli] of [['thermal_zone0', 'gpu-thermal', '39000'], ['thermal_zone1', 'cpu-thermal', '48312']] as const) {
        fs.mkdirSync(path.join(root, z));
        fs.writeFileSync(path.join(root, z, 'type'), `${type}\n`);
        fs.writeFileSync(path.join(root, z, 'temp'), `${milli}\n`);
      }
      const m = collectSystemMetrics({ thermalRoot: root });
      expect(m.cpuTempC).toBe(48.312);
      expect(m.rssBytes).toBeGreaterThan(0);
      expect(m.heapUsedBytes).toBeGreaterThan(0);
      expect(m.load).toHaveLength(3);
      for (const l of m.load) expect(l).toBeGreaterThanOrEqual(0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('gives null where there is no thermal zone', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-nothermal-'));
    try {
      expect(readCpuTempC(root)).toBeNull();
      expect(readCpuTempC(path.join(root, 'missing'))).toBeNull();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
