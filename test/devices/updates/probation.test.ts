// Probation decisions with a fake clock: NaN/Inf (and failed inferences) roll back at once; a
// latency p95 above maxLatencyFactor x the previous model's p95 rolls back at the end of the
// window (N inferences or T ms, whichever first); warm-up latencies are not judged; a quiet or
// baseline-less window keeps. Exact arithmetic on chosen latencies: no tolerances except where a
// comment says so. Also: recordInference allocates nothing (GC events + new-space growth).
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { EdgennError } from '../../../runtime/errors.js';
import { Probation, type ProbationOptions } from '../../../devices/updates/probation.js';

function newSpaceUsed(): number {
  return getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')!.space_used_size;
}

/** GC events that started inside f's run, and V8 new-space growth across it. */
async function gcWindow(f: () => void): Promise<{ gcs: number; bytes: number }> {
  const starts: number[] = [];
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) starts.push(e.startTime); });
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 20));
  const h0 = newSpaceUsed();
  const t0 = performance.now();
  f();
  const t1 = performance.now();
  const h1 = newSpaceUsed();
  await new Promise((r) => setTimeout(r, 50)); // entries arrive asynchronously
  obs.disconnect();
  return { gcs: starts.filter((t) => t >= t0 && t <= t1).length, bytes: h1 - h0 };
}

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

const out = new Float32Array([0.1, -2, 3]);

function make(o: Partial<ProbationOptions> = {}, c = clock()): { p: Probation; c: ReturnType<typeof clock> } {
  const p = new Probation({ maxInferences: 100, maxDurationMs: 60_000, maxLatencyFactor: 3, baselineP95: 10, warmupInferences: 0, minLatencySamples: 20, now: c.now, ...o });
  return { p, c };
}

describe('probation', () => {
  it('keeps after N inferences with finite outputs and latency within the bound', () => {
    const { p } = make();
    for (let i = 0; i < 99; i++) expect(p.recordInference(20 + (i % 10), out)).toBe('pending');
    expect(p.recordInference(25, out)).toBe('keep');
    expect(p.inferences).toBe(100);
    expect(p.p95).toBeLessThanOrEqual(30);
    expect(p.reason).toMatch(/100 inferences/);
    // decided: later inputs do not change it
    expect(p.recordInference(1e9, new Float32Array([NaN]))).toBe('keep');
  });

  for (const bad of [NaN, Infinity, -Infinity]) {
    it(`rolls back at once on ${bad}, naming the index`, () => {
      const { p } = make();
      for (let i = 0; i < 10; i++) p.recordInference(5, out);
      const y = new Float32Array([1, 2, 3, 4]);
      y[2] = bad;
      expect(p.recordInference(5, y)).toBe('rollback');
      expect(p.reason).toContain(`non-finite output ${bad} at index 2 of inference 11`);
    });
  }

  it('only the given slice of the output view is checked', () => {
    const { p } = make();
    const y = new Float32Array([NaN, 1, 2, NaN]); // rows outside the batch may hold anything
    expect(p.recordInference(5, y, 1, 2)).toBe('pending');
    expect(p.recordInference(5, y, 0, 2)).toBe('rollback');
  });

  it('a failed inference rolls back', () => {
    const { p } = make();
    expect(p.recordFailure('ARENA_FULL')).toBe('rollback');
    expect(p.reason).toMatch(/inference 1 failed: ARENA_FULL/);
  });

  it('rolls back when p95 exceeds factor x baseline; the bound is inclusive', () => {
    // 100 samples 1..100 scaled: linear-interpolated p95 of 1..100 is 95.05
    const run = (scale: number, baseline: number): Probation => {
      const { p } = make({ baselineP95: baseline });
      for (let i = 1; i <= 100; i++) p.recordInference(i * scale, out);
      return p;
    };
    const slow = run(1, 31); // bound 93 < 95.05
    expect(slow.verdict).toBe('rollback');
    expect(slow.p95).toBeCloseTo(95.05, 10); // 1e-10: float rounding of the interpolation only
    expect(slow.reason).toMatch(/latency p95 95\.05 > 3 x previous p95 31/);
    expect(run(1, 95.05 / 3 + 1e-9).verdict).toBe('keep');
  });

  it('ends at T ms even with few inferences; tick() ends a silent window', () => {
    const { p, c } = make();
    for (let i = 0; i < 30; i++) { c.advance(100); p.recordInference(100, out); } // 10x slower, 30 samples
    expect(p.verdict).toBe('pending');
    c.advance(60_000);
    expect(p.tick()).toBe('rollback');
    expect(p.reason).toMatch(/over 63000 ms/);
    const q = make().p;
    const c2 = clock();
    const quiet = new Probation({ maxInferences: 100, maxDurationMs: 5000, maxLatencyFactor: 3, baselineP95: 10, now: c2.now });
    c2.advance(4999);
    expect(quiet.tick()).toBe('pending');
    c2.advance(1);
    expect(quiet.tick()).toBe('keep');
    expect(quiet.reason).toMatch(/latency not judged \(0 latency samples < 20\)/);
    expect(q.verdict).toBe('pending');
  });

  it('warm-up latencies are not judged', () => {
    const { p } = make({ warmupInferences: 5, maxInferences: 50 });
    for (let i = 0; i < 5; i++) p.recordInference(10_000, out); // JIT, cold caches
    for (let i = 0; i < 45; i++) p.recordInference(12, out);
    expect(p.verdict).toBe('keep');
    expect(p.p95).toBe(12);
    const { p: q } = make({ warmupInferences: 0, maxInferences: 50 });
    for (let i = 0; i < 5; i++) q.recordInference(10_000, out);
    for (let i = 0; i < 45; i++) q.recordInference(12, out);
    expect(q.verdict).toBe('rollback');
  });

  it('no baseline: latency is not judged', () => {
    const { p } = make({ baselineP95: null, maxInferences: 30 });
    for (let i = 0; i < 30; i++) p.recordInference(1e6, out);
    expect(p.verdict).toBe('keep');
    expect(p.reason).toMatch(/no baseline/);
  });

  it('rejects nonsensical options', () => {
    expect(() => make({ maxInferences: 0 })).toThrow(EdgennError);
    expect(() => make({ maxLatencyFactor: 0.5 })).toThrow(EdgennError);
    expect(() => make({ baselineP95: NaN })).toThrow(EdgennError);
  });

  it('recordInference allocates nothing: no GC event, new space grows < 8 KiB over 200k calls', async () => {
    // Method of test/runtime/graph/zero-gc.test.ts. 8 KiB slack: V8 bookkeeping; one 16-byte
    // object per call would be 3.2 MB. The control loop (one small array per call) must be caught.
    const { p } = make({ maxInferences: 1_000_000, maxDurationMs: 1e12 });
    const y = new Float32Array(64);
    const work = (): void => { for (let i = 0; i < 200_000; i++) p.recordInference(1 + (i & 7), y); };
    let sink: number[] = [];
    const control = (): void => { for (let i = 0; i < 200_000; i++) sink = [i]; };
    for (let i = 0; i < 20_000; i++) p.recordInference(1, y); // JIT warm-up
    const best = async (f: () => void): Promise<{ gcs: number; bytes: number }> => {
      f();
      let b = { gcs: Infinity, bytes: Infinity };
      for (let k = 0; k < 3; k++) {
        const w = await gcWindow(f);
        if (w.gcs + w.bytes / 1e9 < b.gcs + b.bytes / 1e9) b = w;
      }
      return b;
    };
    const w = await best(work);
    expect(p.verdict).toBe('pending');
    expect(w.gcs).toBe(0);
    expect(w.bytes).toBeLessThanOrEqual(8 * 1024);
    const c = await best(control);
    expect(c.gcs > 0 || c.bytes > 8 * 1024).toBe(true);
    expect(sink.length).toBe(1);
  });
});
