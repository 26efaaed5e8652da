// System readings for a metrics record: process memory, CPU load and CPU temperature. Cheap
// reads (a few µs plus one small sysfs read) made once per report interval by the publisher,
// never on the inference path. It is not a profiler and does not sample in the background.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SystemMetrics {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** os.loadavg(): 1, 5 and 15 minute load averages (all 0 on Windows). */
  readonly load: readonly [number, number, number];
  /** CPU temperature in °C from /sys/class/thermal, or null where there is none (VMs, macOS). */
  readonly cpuTempC: number | null;
}

export interface SystemMetricsOptions {
  /** Directory holding thermal_zone* entries; default /sys/class/thermal (tests point it elsewhere). */
  readonly thermalRoot?: string;
}

const zoneCache = new Map<string, string | null>();

/** The temp file of the zone that best stands for the CPU: one whose type names the CPU or SoC
 * (Raspberry Pi: "cpu-thermal"; x86: "x86_pkg_temp"), else the lowest-numbered zone. */
export function findCpuThermalFile(root: string): string | null {
  const cached = zoneCache.get(root);
  if (cached !== undefined) return cached;
  let found: string | null = null;
  try {
    const zones = fs.readdirSync(root)
      .filter((n) => /^thermal_zone\d+$/.test(n))
      .sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)))
      .filter((n) => fs.existsSync(path.join(root, n, 'temp')));
    let best: string | undefined;
    for (const z of zones) {
      let type = '';
      try { type = fs.readFileSync(path.join(root, z, 'type'), 'utf8'); } catch { /* no type file */ }
      if (/cpu|soc|x86_pkg/i.test(type)) { best = z; break; }
    }
    best ??= zones[0];
    if (best !== undefined) found = path.join(root, best, 'temp');
  } catch {
    found = null;
  }
  zoneCache.set(root, found);
  return found;
}

export function readCpuTempC(root = '/sys/class/thermal'): number | null {
  const file = findCpuThermalFile(root);
  if (file === null) return null;
  try {
    // NOTE: sysfs reports millidegrees Celsius as an integer ("48312\n").
    const milli = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isFinite(milli) ? milli / 1000 : null;
  } catch {
    return null;
  }
}

export function collectSystemMetrics(opts: SystemMetricsOptions = {}): SystemMetrics {
  const mem = process.memoryUsage();
  const l = os.loadavg();
  return {
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    load: [l[0] ?? 0, l[1] ?? 0, l[2] ?? 0],
    cpuTempC: readCpuTempC(opts.thermalRoot),
  };
}
