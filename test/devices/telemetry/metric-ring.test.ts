// The metric ring and latency percentiles (metric-ring.ts). Percentiles are compared with a naive
// reference (sort a copy, numpy 'linear' interpolation written out) with exact equality: both
// sort the same doubles and do the same two-term interpolation, so no rounding can differ.
import { PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LatencyStats, MetricRing, percentileSorted } from '../../../devices/telemetry/metric-ring.js';

function refPercentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

describe('percentiles', () => {
  it('matches known values (numpy linear)', () => {
    const s = Float64Array.from([1, 2, 3, 4]);
    expect(percentileSorted(s, 4, 0.5)).toBe(2.5);
    expect(percentileSorted(s, 4, 0.95)).toBeCloseTo(3.85, 12); // 1e-12: one fp multiply-add
    expect(percentileSorted(s, 1, 0.99)).toBe(1);
    expect(Number.isNaN(percentileSorted(s, 0, 0.5))).toBe(true);
  });

  it('computes p50/p95/p99/max/mean of each interval from the ring, like the reference', () => {
    const rnd = lcg(42);
    const ring = new MetricRing({ capacity: 512 });
    const stats = new LatencyStats(512);
    for (const n of [1, 2, 17, 300, 512]) {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) { const v = Math.round(rnd() * 1e6) / 10; xs.push(v); ring.recordInference(v); }
      const t = ring.takeInterval(stats);
      expect(t.inferences).toBe(n);
      expect(stats.count).toBe(n);
      expect(stats.p50).toBe(refPercentile(xs, 0.5));
      expect(stats.p95).toBe(refPercentile(xs, 0.95));
      expect(stats.p99).toBe(refPercentile(xs, 0.99));
      expect(stats.max).toBe(Math.max(...xs));
      expect(stats.mean).toBeCloseTo(xs.reduce((a, b) => a + b, 0) / n, 6); // 1e-6 µs: summation order
    }
  });

  it('keeps the newest S samples when an interval overflows the ring, but counts every inference', () => {
    const ring = new MetricRing({ capacity: 64 });
    const stats = new LatencyStats(64);
    for (let i = 0; i < 1000; i++) ring.recordInference(i);
    const t = ring.takeInterval(stats);
    expect(t.inferences).toBe(1000);
    expect(stats.count).toBe(64);
    expect(stats.p50).toBe(refPercentile(Array.from({ length: 64 }, (_, k) => 936 + k), 0.5));
    ring.takeInterval(stats);
    expect(stats.count).toBe(0);
    expect(Number.isNaN(stats.p95)).toBe(true);
  });

  it('ignores non-finite or negative samples for percentiles but counts the inference', () => {
    const ring = new MetricRing({ capacity: 8 });
    const stats = new LatencyStats(8);
    ring.recordInference(NaN); ring.recordInference(-1); ring.recordInference(Infinity); ring.recordInference(5);
    const t = ring.takeInterval(stats);
    expect(t.inferences).toBe(4);
    expect(stats.count).toBe(1);
    expect(stats.p99).toBe(5);
  });

  it('reports training loss/accuracy means and health only for intervals that had them', () => {
    const ring = new MetricRing({ capacity: 8, layerNames: ['dense1', 'dense2'] });
    const stats = new LatencyStats(8);
    ring.recordTrainStep(1.0, 0.5); ring.recordTrainStep(0.5, NaN); ring.recordError();
    ring.recordHealth([0.25, 2], 0.125, 0.0625);
    const t = ring.takeInterval(stats);
    expect(t).toEqual({
      inferences: 0, errors: 1, trainSteps: 2, loss: 0.75, accuracy: 0.5,
      health: { gradNorms: { dense1: 0.25, dense2: 2 }, deadReluFraction: 0.125, saturationFraction: 0.0625 },
    });
    const t2 = ring.takeInterval(stats);
    expect(t2).toEqual({ inferences: 0, errors: 0, trainSteps: 0, loss: null, accuracy: null, health: null });
  });

  it('recording does not allocate: no GC during 1e6 recordInference calls', async () => {
    const ring = new MetricRing({ capacity: 4096 });
    for (let i = 0; i < 10000; i++) ring.recordInference(i); // warm up (JIT)
    let gcs = 0;
    const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
    obs.observe({ entryTypes: ['gc'] });
    await new Promise((r) => setTimeout(r, 20)); // let entries from before the loop arrive first
    gcs = 0;
    for (let i = 0; i < 1_000_000; i++) ring.recordInference(i & 1023);
    await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
    obs.disconnect();
    // An allocation per call (>= 16 bytes, 16 MB in all) would overflow the young generation and
    // force several scavenges; with none, nothing triggers a GC inside the loop.
    expect(gcs).toBe(0);
  });
});
