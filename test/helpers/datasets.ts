// Small seeded datasets for tests.
import { Rng } from '../../runtime/random.js';
import type { Dataset } from '../../runtime/train/types.js';

/** 3-class 2-D spiral, seeded */
export function spiral(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 2), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3, r = (i / n) * 1 + 0.1, t = c * 2.1 + r * 4 + rng.normal() * 0.15;
    x[2 * i] = r * Math.sin(t); x[2 * i + 1] = r * Math.cos(t); y[i] = c;
  }
  return { x, sampleDims: [2], y, targetFloats: 1, n };
}

