// Test helper for the optimizer tests: an arena Float32Array with params, grads and state slabs
// at odd offsets, separated by sentinel floats, so a step that reads or writes outside its
// ranges is caught.
export const SENTINEL = 12345.5;

export interface Slabs {
  readonly a: Float32Array;
  readonly p: number;
  readonly g: number;
  readonly s: number;
  readonly n: number;
  readonly stateFloats: number;   // stateFloatsPerParam * n
}

export function makeSlabs(params: ArrayLike<number>, stateFloatsPerParam: number): Slabs {
  const n = params.length;
  const gap = 3;
  const p = gap, g = p + n + gap, s = g + n + gap;
  const stateFloats = stateFloatsPerParam * n;
  const a = new Float32Array(s + stateFloats + gap).fill(SENTINEL);
  for (let i = 0; i < n; i++) a[p + i] = params[i]!;
  for (let i = 0; i < n; i++) a[g + i] = 0;
  for (let i = 0; i < stateFloats; i++) a[s + i] = 0;
  return { a, p, g, s, n, stateFloats };
}

export function setGrads(sl: Slabs, grads: ArrayLike<number>): void {
  for (let i = 0; i < sl.n; i++) sl.a[sl.g + i] = grads[i]!;
}

export function params(sl: Slabs): number[] {
  return Array.from(sl.a.subarray(sl.p, sl.p + sl.n));
}

export function state(sl: Slabs): number[] {
  return Array.from(sl.a.subarray(sl.s, sl.s + sl.stateFloats));
}

/** Indices outside the three slabs whose sentinel changed (empty = the step stayed in range). */
export function touchedOutside(sl: Slabs): number[] {
  const bad: number[] = [];
  for (let i = 0; i < sl.a.length; i++) {
    const inside = (i >= sl.p && i < sl.p + sl.n) || (i >= sl.g && i < sl.g + sl.n)
      || (i >= sl.s && i < sl.s + sl.stateFloats);
    if (!inside && sl.a[i] !== SENTINEL) bad.push(i);
  }
  return bad;
}

/** Deterministic pseudo-random floats in [-scale, scale) (mulberry32), float32-representable. */
export function randomF32(n: number, seed: number, scale = 1): number[] {
  let x = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out.push(Math.fround((2 * u - 1) * scale));
  }
  return out;
}
