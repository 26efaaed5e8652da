// Recording side of telemetry: what inference and training call on every request or step. A
// preallocated ring of latency samples plus a few counters; recording is a store and an add, never
// an allocation, a lock, I/O or a throw, so it cannot slow the model down. The publisher's timer
// takes an interval's worth with takeInterval(), which is where the sorting (for percentiles) and
// the small result object happen, once per report interval.
//
// It is not thread-safe across workers (one ring per event loop) and does not keep history: a
// sample older than the last takeInterval() is gone.
//
// Dimensions: S = ring capacity (latency slots), L = max layers reported in training health.

export const COUNTER = { inferences: 0, errors: 1, trainSteps: 2 } as const;
const COUNTER_SLOTS = 3;

// Training accumulators: sums and counts since the last take.
const T_LOSS_SUM = 0, T_LOSS_N = 1, T_ACC_SUM = 2, T_ACC_N = 3;

export interface TrainingHealth {
  /** Gradient L2 norm per layer, keyed by layer name. */
  readonly gradNorms: Record<string, number>;
  /** Fraction of ReLU outputs that were exactly 0 over the last measured batch, in [0, 1]. */
  readonly deadReluFraction: number;
  /** Fraction of sigmoid/tanh outputs within 1e-3 of their bounds (or int8 values clipped). */
  readonly saturationFraction: number;
}

export interface IntervalTotals {
  readonly inferences: number;
  readonly errors: number;
  readonly trainSteps: number;
  /** Mean training loss over the interval's steps; null when no step was recorded. */
  readonly loss: number | null;
  readonly accuracy: number | null;
  /** Latest health signals recorded in the interval; null when none. */
  readonly health: TrainingHealth | null;
}

export interface MetricRingOptions {
  /** Latency slots (S). Percentiles cover the newest S samples of an interval. Default 4096. */
  readonly capacity?: number;
  /** Layer names for gradient norms (L = their count). Default none. */
  readonly layerNames?: readonly string[];
}

export class MetricRing {
  readonly capacity: number;
  readonly latencyUs: Float64Array;  // (S,) latency samples in µs, written round-robin
  readonly counters: Float64Array;   // (3,) COUNTER slots, since the last take
  readonly training: Float64Array;   // (4,) loss sum/count, accuracy sum/count since the last take
  readonly gradNorms: Float64Array;  // (L,) latest per-layer gradient norms
  readonly layerNames: readonly string[];
  written = 0;                       // latency samples ever written
  taken = 0;                         // value of `written` at the last take
  private healthSet = false;
  private deadRelu = 0;
  private saturation = 0;

  constructor(opts: MetricRingOptions = {}) {
    const cap = opts.capacity ?? 4096;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`MetricRing capacity must be a positive integer, got ${cap}`);
    this.capacity = cap;
    this.latencyUs = new Float64Array(cap);
    this.counters = new Float64Array(COUNTER_SLOTS);
    this.training = new Float64Array(4);
    this.layerNames = opts.layerNames ?? [];
    this.gradNorms = new Float64Array(this.layerNames.length);
  }

  /** One finished inference and its latency in µs. Hot path: no allocation, never throws. */
  recordInference(latencyUs: number): void {
    this.counters[COUNTER.inferences] += 1;
    // NOTE: a NaN or negative sample (a broken clock) would sort after +Infinity and shift every
    // percentile; it is counted as an inference but not kept as a sample.
    if (!(latencyUs >= 0 && latencyUs < Infinity)) return;
    const w = this.written;
    this.latencyUs[w % this.capacity] = latencyUs;
    this.written = w + 1;
  }

  recordError(): void {
    this.counters[COUNTER.errors] += 1;
  }

  /** One fine-tuning step; pass NaN for accuracy when it is not measured. */
  recordTrainStep(loss: number, accuracy: number): void {
    this.counters[COUNTER.trainSteps] += 1;
    if (loss === loss) { this.training[T_LOSS_SUM] += loss; this.training[T_LOSS_N] += 1; }
    if (accuracy === accuracy) { this.training[T_ACC_SUM] += accuracy; this.training[T_ACC_N] += 1; }
  }

  /** Latest training-health signals; gradNorms[i] belongs to layerNames[i] (extra values ignored). */
  recordHealth(gradNorms: ArrayLike<number>, deadReluFraction: number, saturationFraction: number): void {
    const n = Math.min(gradNorms.length, this.gradNorms.length);
    for (let i = 0; i < n; i++) this.gradNorms[i] = gradNorms[i]!;
    this.deadRelu = deadReluFraction;
    this.saturation = saturationFraction;
    this.healthSet = true;
  }

  /** Closes the interval: computes latency statistics of its samples into `stats` and returns
   * and resets the counters. Runs on the publisher's timer, never on the inference path. */
  takeInterval(stats: LatencyStats): IntervalTotals {
    stats.computeFrom(this.latencyUs, this.written, this.taken);
    this.taken = this.written;
    const c = this.counters;
    const t = this.training;
    let health: TrainingHealth | null = null;
    if (this.healthSet) {
      const g: Record<string, number> = {};
      for (let i = 0; i < this.gradNorms.length; i++) g[this.layerNames[i]!] = this.gradNorms[i]!;
      health = { gradNorms: g, deadReluFraction: this.deadRelu, saturationFraction: this.saturation };
    }
    const out: IntervalTotals = {
      inferences: c[COUNTER.inferences]!,
      errors: c[COUNTER.errors]!,
      trainSteps: c[COUNTER.trainSteps]!,
      loss: t[T_LOSS_N]! > 0 ? t[T_LOSS_SUM]! / t[T_LOSS_N]! : null,
      accuracy: t[T_ACC_N]! > 0 ? t[T_ACC_SUM]! / t[T_ACC_N]! : null,
      health,
    };
    c.fill(0);
    t.fill(0);
    this.healthSet = false;
    return out;
  }
}

/** Linear-interpolation percentile of sorted[0, n) (numpy's default 'linear', torch.quantile):
 * rank (n - 1) * q between the two neighbouring order statistics. q in [0, 1]. */
export function percentileSorted(sorted: Float64Array, n: number, q: number): number {
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  return a + (sorted[hi]! - a) * (pos - lo);
}

/** Percentiles of one interval's latency samples; the sort buffer is allocated once. */
export class LatencyStats {
  readonly sorted: Float64Array; // (S,) newest samples of the interval, sorted ascending, then +Inf
  count = 0;   // samples used (at most S: the newest ones when the interval overflowed the ring)
  p50 = NaN;
  p95 = NaN;
  p99 = NaN;
  max = NaN;
  mean = NaN;

  constructor(capacity: number) {
    this.sorted = new Float64Array(capacity);
  }

  /** Samples are ring[(taken..written) mod S], keeping only the newest S. */
  computeFrom(ring: Float64Array, written: number, taken: number): void {
    const S = ring.length;
    if (this.sorted.length !== S) throw new RangeError('LatencyStats capacity must equal the ring capacity');
    const n = Math.min(written - taken, S);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = ring[(written - n + i) % S]!;
      this.sorted[i] = v;
      sum += v;
    }
    // Padding with +Infinity lets the whole buffer be sorted in place (TypedArray sort is numeric)
    // without a subarray view; the n real samples come first.
    for (let i = n; i < S; i++) this.sorted[i] = Infinity;
    this.sorted.sort();
    this.count = n;
    this.p50 = percentileSorted(this.sorted, n, 0.5);
    this.p95 = percentileSorted(this.sorted, n, 0.95);
    this.p99 = percentileSorted(this.sorted, n, 0.99);
    this.max = n > 0 ? this.sorted[n - 1]! : NaN;
    this.mean = n > 0 ? sum / n : NaN;
  }
}
