// Detecting allocation in a steady-state loop, for the zero-GC tests: GC events that start inside
// a timed window (PerformanceObserver 'gc' entries), and V8 new-space growth across it (with no GC
// in between, that growth is exactly what the loop allocated on the JS heap, small allocations
// included). The verdict is the cleanest of several windows after a warm-up run: V8 may finish
// an optimizing compile (which allocates) inside any one window, while an allocation made by the
// loop itself shows up in every window.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

export interface AllocationWindow {
  /** GC events that started inside the window */
  readonly gc: number;
  /** growth of V8's new space over the window, bytes */
  readonly heap: number;
}

/** new-space growth allowed for the measurement itself (reading heap statistics allocates) */
export const ALLOCATION_SLACK_BYTES = 8 * 1024;

export function newSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
}

/** true when the window shows the loop allocated */
export function allocated(w: AllocationWindow): boolean {
  return w.gc > 0 || w.heap > ALLOCATION_SLACK_BYTES;
}

/** Runs work once inside a measured window. */
export async function allocationWindow(work: () => void): Promise<AllocationWindow> {
  const starts: number[] = [];
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) starts.push(e.startTime); });
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 20)); // let earlier GC entries arrive before the window
  const h0 = newSpaceUsed(), t0 = performance.now();
  work();
  const t1 = performance.now(), h1 = newSpaceUsed();
  await new Promise((r) => setTimeout(r, 50)); // entries are delivered asynchronously
  obs.disconnect();
  return { gc: starts.filter((s) => s >= t0 && s <= t1).length, heap: h1 - h0 };
}

/** Warm-up run, then the cleanest of `windows` measured runs. */
export async function measureAllocation(work: () => void, windows = 3): Promise<AllocationWindow> {
  work();
  let best: AllocationWindow | null = null;
  for (let k = 0; k < windows; k++) {
    const w = await allocationWindow(work);
    if (best === null || w.gc + w.heap / 1e9 < best.gc + best.heap / 1e9) best = w;
  }
  return best!;
}
