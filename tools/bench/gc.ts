// Garbage-collection accounting for timed loops: a PerformanceObserver records the start time of
// every 'gc' entry, and each timed loop is charged the collections that started inside its
// [t0, t1] window (performance.now() time, the entries' clock). Entries arrive asynchronously,
// so `settle()` must run before counting. Also offers a forced full collection before each timed
// loop, so a collection inside a loop is caused by that loop's own allocations and not by
// garbage another implementation left in the young generation.
//
// NOTE: `gc` is exposed at run time via v8.setFlagsFromString('--expose-gc') and a fresh vm
// context (the flag only takes effect for contexts created afterwards). If that is refused,
// forcing is skipped and the report says so.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

type GcFn = () => void;

function exposeGc(): GcFn | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn: unknown = vm.runInNewContext('gc');
    return typeof fn === 'function' ? (fn as GcFn) : null;
  } catch {
    return null;
  }
}

export class GcCounter {
  private readonly starts: number[] = [];
  private readonly observer: PerformanceObserver;
  private readonly gcFn: GcFn | null;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.starts.push(e.startTime);
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.gcFn = exposeGc();
  }

  /** true when collections can be forced between loops */
  get canForce(): boolean {
    return this.gcFn !== null;
  }

  /** A full collection now (no-op when gc could not be exposed). */
  force(): void {
    if (this.gcFn !== null) this.gcFn();
  }

  /** Lets queued 'gc' entries reach the observer. */
  async settle(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setTimeout(r, 0));
  }

  /** Collections that started in [t0, t1] (performance.now() milliseconds). Call settle() first. */
  countIn(t0: number, t1: number): number {
    let n = 0;
    for (const s of this.starts) if (s >= t0 && s <= t1) n++;
    return n;
  }

  now(): number {
    return performance.now();
  }

  stop(): void {
    this.observer.disconnect();
  }
}
