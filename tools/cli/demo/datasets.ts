// Built-in toy datasets for the demo and examples, generated from a seeded generator so every run
// (and every machine) sees the same points. x is [N, 2] row-major, y is [N] class indices.
import { Rng } from '../../../runtime/random.js';

export interface ToyDataset {
  /** [N, 2] */
  readonly x: Float32Array;
  /** [N] class indices */
  readonly y: Int32Array;
  readonly n: number;
  readonly classes: number;
}

/**
 * The classic spiral (CS231n): `classes` arms of `perClass` points each, radius 0..1, angle
 * growing with the radius (4 radians over an arm) plus Gaussian noise of `noise` radians.
 */
export function makeSpiral(perClass: number, classes: number, seed: number, noise = 0.2): ToyDataset {
  const rng = new Rng(seed);
  const n = perClass * classes;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const k = c * perClass + i;
      const r = perClass > 1 ? i / (perClass - 1) : 0;
      const t = (c * 2 * Math.PI) / classes + r * 4 + rng.normal() * noise;
      x[2 * k] = r * Math.sin(t);
      x[2 * k + 1] = r * Math.cos(t);
      y[k] = c;
    }
  }
  return { x, y, n, classes };
}

/** Two interleaving half circles (scikit-learn's make_moons) with Gaussian noise. */
export function makeMoons(perClass: number, seed: number, noise = 0.1): ToyDataset {
  const rng = new Rng(seed);
  const n = 2 * perClass;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < perClass; i++) {
    const t = perClass > 1 ? (Math.PI * i) / (perClass - 1) : 0;
    x[2 * i] = Math.cos(t) + rng.normal() * noise;
    x[2 * i + 1] = Math.sin(t) + rng.normal() * noise;
    y[i] = 0;
    const k = perClass + i;
    x[2 * k] = 1 - Math.cos(t) + rng.normal() * noise;
    x[2 * k + 1] = 0.5 - Math.sin(t) + rng.normal() * noise;
    y[k] = 1;
  }
  return { x, y, n, classes: 2 };
}
