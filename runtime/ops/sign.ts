// sign (the McCulloch–Pitts / perceptron unit): y = 1 for x > 0, -1 for x < 0, 0 at 0 (keeping
// the sign of zero, like torch.sign), NaN for NaN. Forward only: autograd gives a zero gradient.
export function signForward(a: Float32Array, y: number, x: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = a[x + i]!;
    a[y + i] = v > 0 ? 1 : v < 0 ? -1 : v;
  }
}
export function signForwardRef(x: number): number {
  return Math.sign(x);
}
