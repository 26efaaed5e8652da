// Probation of a freshly swapped-in model: watch its first N inferences (or T milliseconds,
// whichever ends first) and decide `keep` or `rollback`.
//   rollback at once: an output that is NaN or ±Inf, or an inference that failed (recordFailure)
//   rollback at the end: latency p95 over the probation window > maxLatencyFactor × the previous
//                        model's p95 (baselineP95), judged only with >= minLatencySamples samples
//                        after the first warmupInferences (JIT compilation, cold caches)
//   keep at the end otherwise (including a quiet window: no evidence against the model)
// Pure logic: the clock is injected, the agent feeds latencies and output views and acts on the
// verdict (store.markStable() / store.rollback()). Latency units are the caller's (the same for
// samples and baseline).
//
// Hot path: recordInference() allocates nothing (a preallocated sample slab, a scan of the output
// view, string-literal verdicts); the p95 and the reason text are computed once, at the decision.
import { EdgennError } from '../../runtime/errors.js';
import { percentileSorted } from '../telemetry/metric-ring.js';

export type ProbationVerdict = 'pending' | 'keep' | 'rollback';

export interface ProbationOptions {
  /** N: decide after this many inferences */
  readonly maxInferences: number;
  /** T: or once this much time passed since the swap (ms of `now`) */
  readonly maxDurationMs: number;
  /** rollback when p95 > maxLatencyFactor × baselineP95 (e.g. 3) */
  readonly maxLatencyFactor: number;
  /** the previous model's p95 latency; null = latency is not judged (no baseline yet) */
  readonly baselineP95: number | null;
  /** first latencies ignored; default 3 */
  readonly warmupInferences?: number;
  /** fewer judged samples than this at the end → latency not judged; default 20 */
  readonly minLatencySamples?: number;
  /** the clock, in ms (performance.now, Date.now, a fake) */
  readonly now: () => number;
}

export class Probation {
  verdict: ProbationVerdict = 'pending';
  /** why the verdict was reached ('' while pending) */
  reason = '';
  inferences = 0;
  /** p95 of the judged latencies, computed at the decision (NaN before, or without samples) */
  p95 = NaN;
  readonly startedAt: number;
  private readonly samples: Float64Array; // (N,) judged latencies in arrival order
  private judged = 0;
  private readonly opts: ProbationOptions;
  private readonly warmup: number;
  private readonly minSamples: number;

  constructor(opts: ProbationOptions) {
    const ok = Number.isSafeInteger(opts.maxInferences) && opts.maxInferences >= 1 &&
      opts.maxDurationMs > 0 && opts.maxLatencyFactor >= 1 &&
      (opts.baselineP95 === null || (Number.isFinite(opts.baselineP95) && opts.baselineP95 >= 0));
    if (!ok) {
      throw new EdgennError('ARG', 'bad probation options', {
        expected: 'maxInferences integer >= 1, maxDurationMs > 0, maxLatencyFactor >= 1, baselineP95 finite >= 0 or null',
        actual: `${opts.maxInferences}, ${opts.maxDurationMs}, ${opts.maxLatencyFactor}, ${opts.baselineP95}`,
      });
    }
    this.opts = opts;
    this.warmup = opts.warmupInferences ?? 3;
    this.minSamples = opts.minLatencySamples ?? 20;
    this.samples = new Float64Array(opts.maxInferences);
    this.startedAt = opts.now();
  }

  /**
   * One inference of the model on probation: its latency and its output values
   * out[offset, offset + length) (default: the whole view). Returns the verdict so far.
   */
  recordInference(latency: number, out: Float32Array, offset = 0, length = out.length - offset): ProbationVerdict {
    if (this.verdict !== 'pending') return this.verdict;
    const end = offset + length;
    for (let i = offset; i < end; i++) {
      // NOTE: x - x is 0 for finite x and NaN for NaN and ±Inf: one test catches all three
      const x = out[i]!;
      if (x - x !== 0) {
        this.inferences++;
        return this.decide('rollback', `non-finite output ${x} at index ${i - offset} of inference ${this.inferences}`);
      }
    }
    if (this.inferences >= this.warmup && Number.isFinite(latency)) this.samples[this.judged++] = latency;
    this.inferences++;
    if (this.inferences >= this.opts.maxInferences) return this.finish(`${this.inferences} inferences`);
    return this.tick();
  }

  /** An inference of the model on probation threw or could not run. */
  recordFailure(what: string): ProbationVerdict {
    if (this.verdict !== 'pending') return this.verdict;
    this.inferences++;
    return this.decide('rollback', `inference ${this.inferences} failed: ${what}`);
  }

  /** Checks the deadline (call it from a timer too: a model that serves nothing still finishes). */
  tick(): ProbationVerdict {
    if (this.verdict !== 'pending') return this.verdict;
    const elapsed = this.opts.now() - this.startedAt;
    if (elapsed >= this.opts.maxDurationMs) return this.finish(`${Math.round(elapsed)} ms`);
    return 'pending';
  }

  private finish(window: string): ProbationVerdict {
    const n = this.judged;
    const base = this.opts.baselineP95;
    if (n > 0) {
      const sorted = this.samples.subarray(0, n).sort();
      this.p95 = percentileSorted(sorted, n, 0.95);
    }
    if (base !== null && n >= this.minSamples) {
      const bound = this.opts.maxLatencyFactor * base;
      if (this.p95 > bound) {
        return this.decide('rollback', `latency p95 ${fmt(this.p95)} > ${this.opts.maxLatencyFactor} x previous p95 ${fmt(base)} over ${window}`);
      }
      return this.decide('keep', `finite outputs and latency p95 ${fmt(this.p95)} <= ${fmt(bound)} over ${window}`);
    }
    const why = base === null ? 'no baseline latency' : `${n} latency samples < ${this.minSamples}`;
    return this.decide('keep', `finite outputs over ${window}; latency not judged (${why})`);
  }

  private decide(v: 'keep' | 'rollback', reason: string): ProbationVerdict {
    this.verdict = v;
    this.reason = reason;
    return v;
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x);
}
