// Training-health probes, read after an activation's forward (y is (B, n)):
//  - dead units: ReLU units whose output is 0 for every sample of the batch (they pass no
//    gradient; many of them mean a "dying ReLU" network);
//  - saturated outputs: sigmoid outputs outside [0.01, 0.99] or tanh outputs with |y| > 0.99,
//    where the local derivative is below ~0.01 and gradients vanish.
// Each writes [count, total] to a[out], a[out + 1]. Allocation-free; cost O(B*n).
export const SATURATION = 0.99;

export function deadUnitsProbe(a: Float32Array, out: number, y: number, B: number, n: number): void {
  let dead = 0;
  for (let u = 0; u < n; u++) {
    let alive = false;
    for (let b = 0; b < B && !alive; b++) alive = a[y + b * n + u]! > 0;
    if (!alive) dead++;
  }
  a[out] = dead;
  a[out + 1] = n;
}

export function saturatedProbe(a: Float32Array, out: number, y: number, B: number, n: number,
                               tanh: boolean): void {
  let sat = 0;
  const total = B * n;
  const lo = 1 - SATURATION;
  for (let i = 0; i < total; i++) {
    const v = a[y + i]!;
    if (tanh ? Math.abs(v) > SATURATION : v < lo || v > SATURATION) sat++;
  }
  a[out] = sat;
  a[out + 1] = total;
}
