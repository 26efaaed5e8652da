// The wasm kernels are called without allocating: 20 000 rounds of every kernel (dense forward
// at batch 1 and 32, dense backward, activations, SGD and Adam steps through wasmOptimizerStep,
// int8 dense) run while a PerformanceObserver records GC events and V8's new-space growth is
// measured, as in test/runtime/graph/zero-gc.test.ts. A control loop that allocates one small
// array per call must be caught, so the detector is proven to see allocations of that size.
import { describe, it, expect } from 'vitest';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { createWasmKernels, DenseAct } from '../../../runtime/wasm/kernels.js';
import { wasmOptimizerStep } from '../../../runtime/wasm/executor-hooks.js';
import { SgdOptimizer } from '../../../runtime/optim/sgd.js';
import { AdamOptimizer } from '../../../runtime/optim/adam.js';

function newSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
}

interface Window { gcEvents: number; heapBytes: number }
const ALLOCATION_SLACK_BYTES = 8 * 1024;

async function window(work: () => void): Promise<Window> {
  const starts: number[] = [];
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) starts.push(e.startTime); });
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 20));
  const h0 = newSpaceUsed();
  const t0 = performance.now();
  work();
  const t1 = performance.now();
  const h1 = newSpaceUsed();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return { gcEvents: starts.filter((s) => s >= t0 && s <= t1).length, heapBytes: h1 - h0 };
}

/** warm up once, then keep the cleanest of three windows (a JIT compile may allocate in one) */
async function measure(work: () => void): Promise<Window> {
  work();
  let best: Window | null = null;
  for (let i = 0; i < 3; i++) {
    const w = await window(work);
    if (best === null || w.gcEvents + w.heapBytes / 1e9 < best.gcEvents + best.heapBytes / 1e9) best = w;
  }
  return best!;
}

describe('wasm kernels allocate nothing per call', () => {
  it('20 000 rounds of every kernel: no GC event, no new-space growth', async () => {
    const k = createWasmKernels(4 << 20)!;
    expect(k).not.toBeNull();
    const a = new Float32Array(k.buffer);
    for (let i = 0; i < 600_000; i++) a[i] = Math.sin(i) * 0.1;
    // float indices: x (32,64) w (48,64) b (48) y (32,48) dy (32,48) dx (32,64) dw (48,64) db (48)
    const x = 16, w = x + 32 * 64, b = w + 48 * 64, y = b + 48, dy = y + 32 * 48, dx = dy + 32 * 48;
    const dw = dx + 32 * 64, db = dw + 48 * 64, p = 100_000, g = 200_000, s = 300_000, n = 5_001;
    const sgd = new SgdOptimizer({ kind: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
    const adam = new AdamOptimizer({ kind: 'adamw', lr: 1e-3, amsgrad: true });
    const sgdStep = wasmOptimizerStep(k, sgd), adamStep = wasmOptimizerStep(k, adam);
    let t = 0;
    const work = (): void => {
      for (let r = 0; r < 20_000; r++) {
        k.denseForward(y, x, w, b, 1, 64, 48, DenseAct.Relu, 0);
        k.denseForward(y, x, w, b, 32, 64, 48, DenseAct.None, 0);
        k.denseBackward(dx, dw, db, dy, x, w, 32, 64, 48);
        k.reluForward(y, y, 32 * 48);
        k.reluBackward(dx, dy, y, 32 * 48);
        k.leakyReluForward(y, y, 32 * 48, 0.01);
        k.leakyReluBackward(dx, dy, y, 32 * 48, 0.01);
        t++;
        sgdStep(a, p, g, s, n, t);
        adamStep(a, p, g, s, n, t);
        k.denseInt8(500_000, 1_200_000, 1_300_000, -1, 2, 64, 48);
      }
    };
    const wv = await measure(work);
    expect(wv.gcEvents).toBe(0);
    expect(wv.heapBytes).toBeLessThanOrEqual(ALLOCATION_SLACK_BYTES);
  }, 120_000);

  it('control: a loop allocating a 2-element array per kernel call is caught', async () => {
    const k = createWasmKernels(1 << 20)!;
    const keep: number[][] = [];
    const w = await measure(() => {
      keep.length = 0;
      for (let r = 0; r < 20_000; r++) { k.reluForward(64, 0, 16); keep.push([r, r]); }
    });
    expect(w.gcEvents > 0 || w.heapBytes > ALLOCATION_SLACK_BYTES).toBe(true);
  });
});
