// Rough throughput of the wasm kernels next to the JS kernels on the same arena: GFLOP/s for
// dense forward and backward at 1x784x256 (batch-1 GEMV), 32x784x128 (training batch) and small
// layers, and ns per parameter for the SGD / Adam steps. Printed, never asserted (timings are not
// tests: machines differ). What IS asserted: after the timed loops both implementations still
// agree (forward outputs within 1e-5 + 1e-5 * sum|terms|, as in kernels.test.ts), so a kernel
// made fast by skipping work fails here.
import { describe, it, expect } from 'vitest';
import { createWasmKernels, DenseAct } from '../../../runtime/wasm/kernels.js';
import { wasmOptimizerStep } from '../../../runtime/wasm/executor-hooks.js';
import { denseForward, denseBackward, denseForwardRef } from '../../../runtime/ops/dense.js';
import { SgdOptimizer } from '../../../runtime/optim/sgd.js';
import { AdamOptimizer } from '../../../runtime/optim/adam.js';

/** best (minimum) ns per call of `fn` over `reps` batches of ~5 ms: on a shared, loaded machine
 *  the minimum estimates what the kernel can do; the median mostly measures the neighbours */
function timeNs(fn: () => void, reps = 15): number {
  for (let i = 0; i < 3; i++) fn();
  let calls = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    const dt = Number(process.hrtime.bigint() - t0);
    if (dt > 5e6 || calls > 1e6) break;
    calls *= 2;
  }
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / calls);
  }
  samples.sort((x, y) => x - y);
  return samples[0]!;
}

describe('wasm vs JS kernels: throughput (printed, not asserted)', () => {
  it('dense forward/backward GFLOP/s and optimizer ns/param', () => {
    const k = createWasmKernels(24 << 20)!;
    const a = new Float32Array(k.buffer);
    const rows: string[] = [];
    const shapes: Array<[number, number, number]> = [[1, 784, 256], [32, 784, 128], [1, 16, 32], [1, 32, 4], [32, 256, 128], [64, 784, 128]];
    for (const [B, I, O] of shapes) {
      // fresh data per shape: the previous shape's gradients (accumulated over the timing loops)
      // overlap this layout
      for (let i = 0; i < 1_000_000; i++) a[i] = Math.sin(i * 0.37) * 0.5;
      const x = 0, w = alignAfter(x + B * I), b = alignAfter(w + O * I), y = alignAfter(b + O), y2 = alignAfter(y + B * O);
      const dy = alignAfter(y2 + B * O), dx = alignAfter(dy + B * O), dw = alignAfter(dx + B * I), db = alignAfter(dw + O * I);
      const flopsF = 2 * B * I * O, flopsB = 2 * 2 * B * I * O;   // backward = dX and dW GEMMs
      const fJs = timeNs(() => denseForward(a, y, x, w, b, B, I, O));
      const fWa = timeNs(() => k.denseForward(y2, x, w, b, B, I, O, DenseAct.None, 0));
      const bJs = timeNs(() => denseBackward(a, dx, dw, db, dy, x, w, B, I, O));
      const bWa = timeNs(() => k.denseBackward(dx, dw, db, dy, x, w, B, I, O));
      rows.push(`${`${B}x${I}x${O}`.padEnd(11)} fwd  JS ${gf(flopsF, fJs)}  wasm ${gf(flopsF, fWa)}  (${us(fJs)} -> ${us(fWa)}, x${(fJs / fWa).toFixed(1)})`);
      rows.push(`${''.padEnd(11)} bwd  JS ${gf(flopsB, bJs)}  wasm ${gf(flopsB, bWa)}  (${us(bJs)} -> ${us(bWa)}, x${(bJs / bWa).toFixed(1)})`);
      // still correct after the timing loops
      const ref = new Float32Array(a.buffer.slice(0, 4 * (y + B * O)));
      denseForwardRef(ref, y, x, w, b, B, I, O);
      for (let i = 0; i < B * O; i++) expect(Math.abs(a[y2 + i]! - ref[y + i]!)).toBeLessThanOrEqual(1e-5 + 1e-5 * I);
      // (|x|, |w| <= 0.5 here, so sum|terms| <= I/4 < I: the kernels.test.ts tolerance, loosened to I)
    }
    // optimizers on the parameter count of 784-128-10 (101 770)
    const n = 101_770, p = 4_000_000, g = p + n + 4, s = g + n + 4;
    for (const opt of [new SgdOptimizer({ kind: 'sgd', lr: 0.01, momentum: 0.9 }), new AdamOptimizer({ kind: 'adam', lr: 1e-3 })]) {
      a.fill(0, s, s + 2 * n);
      const step = wasmOptimizerStep(k, opt);
      let t = 0, t2 = 0;
      const js = timeNs(() => opt.step(a, p, g, s, n, ++t));
      const wa = timeNs(() => step(a, p, g, s, n, ++t2));
      rows.push(`${opt.kind.padEnd(5)} n=${n}  JS ${us(js)} (${(js / n).toFixed(2)} ns/param)  wasm ${us(wa)} (${(wa / n).toFixed(2)} ns/param)  x${(js / wa).toFixed(1)}`);
    }
    console.log(`\n${rows.join('\n')}\n(node ${process.version}, ${process.arch})`);
  }, 300_000);
});

function alignAfter(end: number): number {
  return Math.ceil((end + 1) / 4) * 4;
}
function gf(flops: number, ns: number): string {
  return `${(flops / ns).toFixed(2).padStart(6)} GFLOP/s`;
}
function us(ns: number): string {
  return `${(ns / 1000).toFixed(1)} µs`;
}
