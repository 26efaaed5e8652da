// The quant kernels allocate nothing: 5 000 simulated QAT steps (qatFlags, observe + fake-quant
// per channel and per tensor with both qparams rules, STE backward, LSQ forward/backward) and
// 20 000 int8 inferences (quantize, int8 dense, int8 conv1d, dequantize) run while a
// PerformanceObserver records GC events and V8's new-space growth is measured (the method of
// test/runtime/graph/zero-gc.test.ts, with its control: a loop that allocates must be caught).
import { describe, it, expect } from 'vitest';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Rng } from '../../../runtime/random.js';
import { INT8_SYMMETRIC, UINT8_AFFINE } from '../../../runtime/quant/qparams.js';
import {
  observerReset, observedFakeQuantForward, observedFakeQuantBackward, qatFlags, OBSERVER_MOVING_AVERAGE, OBSERVER_MINMAX,
} from '../../../runtime/quant/observers.js';
import { lsqForward, lsqPerTensorBackward } from '../../../runtime/quant/learnable-fake-quant.js';
import { quantizeForward, dequantizeForward, int8DenseForward, int8Conv1dForward, prepareInt8Linear } from '../../../runtime/quant/int8.js';

const SLACK = 8 * 1024;
const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;

async function window(work: () => void): Promise<{ gc: number; bytes: number }> {
  const starts: number[] = [];
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) starts.push(e.startTime); });
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 20));
  const h0 = newSpace(), t0 = performance.now();
  work();
  const t1 = performance.now(), h1 = newSpace();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return { gc: starts.filter((s) => s >= t0 && s <= t1).length, bytes: h1 - h0 };
}
/** warm up once, keep the cleanest of three windows (a JIT compile may allocate in one) */
async function measure(work: () => void): Promise<{ gc: number; bytes: number }> {
  work();
  let best = await window(work);
  for (let k = 0; k < 2; k++) { const w = await window(work); if (w.gc + w.bytes / 1e9 < best.gc + best.bytes / 1e9) best = w; }
  return best;
}

function setup() {
  const rng = new Rng(1);
  const B = 16, I = 32, O = 16;
  const a = new Float32Array(8192);
  const X = 0, W = 512, Y = 1024, G = 1536, DX = 2048, YW = 2560, DW = 3072;
  const ST = 3584, QP = 3600, STW = 3616, QPW = 3680, S = 3744, Z = 3745, DS = 3746, DZ = 3747;
  for (let i = 0; i < B * I; i++) { a[X + i] = rng.normal(); a[G + i] = rng.normal(); }
  for (let i = 0; i < O * I; i++) a[W + i] = rng.normal() * 0.2;
  a[S] = 0.05; a[Z] = 3.3;
  observerReset(a, ST, 1); observerReset(a, STW, O);
  const p = prepareInt8Linear({ weight: a.slice(W, W + O * I), O, bias: new Float32Array(O), weightScale: new Float32Array(O).fill(0.004),
    inputScale: 0.02, inputZero: 128, outputScale: 0.05, outputZero: 120, outputQmin: 0, outputQmax: 255, relu: true });
  const i32 = new Int32Array(4 * O);
  i32.set(p.bias!, 0); i32.set(p.weightZero, O); i32.set(p.multiplier, 2 * O); i32.set(p.shift, 3 * O);
  const u8 = new Uint8Array(2048);
  a[4000] = 0.02; a[4001] = 128; a[4002] = 0.05; a[4003] = 120;
  const sched = { freezeObserverAt: 2500, fakeQuantFrom: 10 };
  const qatSteps = (n: number): void => {
    for (let t = 0; t < n; t++) {
      const f = qatFlags(t % 5000, sched);
      observedFakeQuantForward(a, Y, X, ST, QP, 1, 1, B * I, f, OBSERVER_MOVING_AVERAGE, 0.01, UINT8_AFFINE, 'fused');
      observedFakeQuantForward(a, YW, W, STW, QPW, 1, O, I, f, OBSERVER_MINMAX, 0, INT8_SYMMETRIC, 'observer');
      observedFakeQuantBackward(a, DX, G, X, QP, 1, 1, B * I, f, 0, 255);
      observedFakeQuantBackward(a, DW, G, W, QPW, 1, O, I, f, -128, 127);
      lsqForward(a, Y, X, S, Z, 1, 1, B * I, -8, 7);
      lsqPerTensorBackward(a, DX, DS, DZ, G, X, S, Z, B * I, -8, 7, 0.1);
    }
  };
  const inferences = (n: number): void => {
    for (let t = 0; t < n; t++) {
      quantizeForward(u8, 0, a, X, 4000, 4001, 1, 1, B * I, 0, 255);
      int8DenseForward(u8, 1024, u8, 0, p.weight, 0, i32, 0, O, 2 * O, 3 * O, 128, 120, p.actMin, p.actMax, B, I, O);
      int8Conv1dForward(u8, 1536, u8, 0, p.weight, 0, i32, 0, O, 2 * O, 3 * O, 128, 120, p.actMin, p.actMax, 1, 2, 16, O, 16, 1, 1, 0, 1);
      dequantizeForward(a, 5000, u8, 1024, 4002, 4003, 1, 1, B * O);
    }
  };
  return { qatSteps, inferences };
}

describe('quant kernels allocate nothing', () => {
  it('5 000 QAT steps and 20 000 int8 inferences cause no GC event', async () => {
    const { qatSteps, inferences } = setup();
    qatSteps(300); inferences(1000);
    const w = await measure(() => { qatSteps(5000); inferences(20000); });
    expect(w.gc).toBe(0);
    expect(w.bytes).toBeLessThanOrEqual(SLACK);
  });
  it('control: the detector sees a typed array made per step', async () => {
    const { qatSteps } = setup();
    let sink = 0;
    const w = await measure(() => { for (let t = 0; t < 5000; t++) { qatSteps(1); sink += new Float32Array(8)[0]!; } });
    expect(sink).toBe(0);
    expect(w.gc > 0 || w.bytes > SLACK).toBe(true);
  });
});
