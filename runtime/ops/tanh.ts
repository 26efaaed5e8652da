// tanh, elementwise over n floats. Backward uses the output y: dx = g*(1 - y*y), like PyTorch.
export function tanhForward(a: Float32Array, y: number, x: number, n: number): void {
  for (let i = 0; i < n; i++) a[y + i] = Math.tanh(a[x + i]!);
}
export function tanhBackward(a: Float32Array, dx: number, dy: number, y: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = a[y + i]!;
    a[dx + i] += a[dy + i]! * (1 - t * t);
  }
}
export function tanhForwardRef(x: number): number {
  const e = Math.exp(2 * x);
  return Number.isFinite(e) ? (e - 1) / (e + 1) : 1;
}
