// step (Heaviside threshold unit): y = 1 where x > 0, else 0 (0 at x == 0, like
// torch.heaviside(x, 0)). Forward only: the derivative is zero almost everywhere, so backward
// contributes nothing (the planner still zeroes dx, so upstream layers see a zero gradient).
export function stepForward(a: Float32Array, y: number, x: number, n: number): void {
  for (let i = 0; i < n; i++) a[y + i] = a[x + i]! > 0 ? 1 : 0;
}
export function stepForwardRef(x: number): number {
  return x > 0 ? 1 : 0;
}
