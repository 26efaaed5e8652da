// relu: y = max(x, 0), elementwise over n floats. x, y, dx, dy are (n).
// NOTE: the gradient at x == 0 is 0 (PyTorch's threshold_backward passes g only where x > 0);
// NaN propagates forward like torch.relu.
export function reluForward(a: Float32Array, y: number, x: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = a[x + i]!;
    a[y + i] = v > 0 || v !== v ? v : 0;
  }
}
/** Uses the output y (y > 0 iff x > 0), so x need not stay alive for backward. */
export function reluBackward(a: Float32Array, dx: number, dy: number, y: number, n: number): void {
  for (let i = 0; i < n; i++) if (a[y + i]! > 0) a[dx + i] += a[dy + i]!;
}
export function reluForwardRef(x: number): number {
  return Number.isNaN(x) ? x : Math.max(x, 0) + 0;
}
