// The timing harness: measures several implementations of one workload in interleaved rounds
// (A B C, B C A, C A B, ...) so slow drifts of a shared, noisy machine hit all of them alike.
//
// Per implementation: a warm-up (JIT, caches, lazily built kernels), then a calibration that picks
// k, the calls per sample, so one sample lasts >= minSampleUs (the ~50 ns timer read is then
// < 1 % of it); every sample is the time of k back-to-back calls divided by k. Before every timed
// loop the impl is entered (tfjs switches backend), a short re-warm runs, and a full GC is forced;
// collections that start inside the loop are charged to it (gc.ts).
//
// It is NOT statistics (stats.ts) and knows nothing about models: it times `Call`s.
import type { Call, ImplName, Impl } from './impl.js';
import type { GcCounter } from './gc.js';

export interface Contender {
  readonly impl: Impl;
  readonly call: Call;
}

export interface MeasureOptions {
  /** samples per implementation, spread evenly over the rounds */
  readonly samples: number;
  readonly rounds: number;
  /** first warm-up: run for at least this long (and at least minCalls calls) */
  readonly warmupMs: number;
  readonly warmupMinCalls: number;
  /** a sample should last at least this long; k = calls per sample is chosen to get there */
  readonly minSampleUs: number;
}

export interface Measured {
  readonly impl: ImplName;
  /** per-call time of every sample, µs */
  readonly perCallUs: Float64Array;
  readonly callsPerSample: number;
  /** collections that started inside this impl's timed loops */
  readonly gcEvents: number;
  /** calls made inside timed loops */
  readonly timedCalls: number;
}

const MAX_CALLS_PER_SAMPLE = 4096;

function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Times n samples of k calls into out[at..at+n) as µs per call. */
function timeSync(fn: () => void, k: number, n: number, out: Float64Array, at: number): void {
  for (let s = 0; s < n; s++) {
    const t0 = nowNs();
    for (let j = 0; j < k; j++) fn();
    out[at + s] = Number(nowNs() - t0) / (1000 * k);
  }
}

async function timeAsync(fn: () => Promise<void>, k: number, n: number, out: Float64Array, at: number): Promise<void> {
  for (let s = 0; s < n; s++) {
    const t0 = nowNs();
    for (let j = 0; j < k; j++) await fn();
    out[at + s] = Number(nowNs() - t0) / (1000 * k);
  }
}

async function callN(c: Call, n: number): Promise<void> {
  if (c.sync) for (let j = 0; j < n; j++) c.fn();
  else for (let j = 0; j < n; j++) await c.fn();
}

/** Warm-up, then an estimate of one call's duration in µs (median of 5 small timed batches). */
async function warmAndCalibrate(c: Call, o: MeasureOptions): Promise<number> {
  const start = nowNs();
  let calls = 0;
  while (calls < o.warmupMinCalls || Number(nowNs() - start) < o.warmupMs * 1e6) {
    await callN(c, 1);
    calls++;
    if (calls >= 100_000) break;
  }
  const perCall = Number(nowNs() - start) / 1000 / calls;
  // batches of about minSampleUs each, from the warm-up's estimate
  const k = Math.max(1, Math.min(MAX_CALLS_PER_SAMPLE, Math.ceil(o.minSampleUs / Math.max(perCall, 1e-3))));
  const est = new Float64Array(5);
  if (c.sync) timeSync(c.fn, k, 5, est, 0);
  else await timeAsync(c.fn, k, 5, est, 0);
  est.sort();
  return est[2]!;
}

export type Progress = (msg: string) => void;

export async function measureInterleaved(contenders: readonly Contender[], o: MeasureOptions,
                                         gc: GcCounter): Promise<Measured[]> {
  const ks: number[] = [];
  for (const c of contenders) {
    await c.impl.enter();
    const perCall = await warmAndCalibrate(c.call, o);
    ks.push(Math.max(1, Math.min(MAX_CALLS_PER_SAMPLE, Math.ceil(o.minSampleUs / Math.max(perCall, 1e-3)))));
  }
  const perRound = Math.max(1, Math.ceil(o.samples / o.rounds));
  const total = perRound * o.rounds;
  const out = contenders.map(() => new Float64Array(total));
  const windows: [number, number][][] = contenders.map(() => []);
  const n = contenders.length;
  for (let r = 0; r < o.rounds; r++) {
    for (let j = 0; j < n; j++) {
      const i = (j + r) % n; // rotate the order each round
      const c = contenders[i]!;
      const k = ks[i]!;
      await c.impl.enter();
      await callN(c.call, Math.max(2, k)); // re-warm after the other impls ran
      gc.force();
      const t0 = gc.now();
      if (c.call.sync) timeSync(c.call.fn, k, perRound, out[i]!, r * perRound);
      else await timeAsync(c.call.fn, k, perRound, out[i]!, r * perRound);
      windows[i]!.push([t0, gc.now()]);
    }
  }
  await gc.settle();
  return contenders.map((c, i) => ({
    impl: c.impl.name,
    perCallUs: out[i]!,
    callsPerSample: ks[i]!,
    gcEvents: windows[i]!.reduce((s, [a, b]) => s + gc.countIn(a, b), 0),
    timedCalls: total * ks[i]!,
  }));
}
