// sigmoid: y = 1 / (1 + exp(-x)), elementwise over n floats.
// NOTE: the branch keeps exp's argument <= 0, so neither side overflows for large |x|.
// Backward uses the output y (dx = g*y*(1-y)), like PyTorch's sigmoid_backward.
export function sigmoidForward(a: Float32Array, y: number, x: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = a[x + i]!;
    if (v >= 0) {
      a[y + i] = 1 / (1 + Math.exp(-v));
    } else {
      const e = Math.exp(v);
      a[y + i] = e / (1 + e);
    }
  }
}
export function sigmoidBackward(a: Float32Array, dx: number, dy: number, y: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const s = a[y + i]!;
    a[dx + i] += a[dy + i]! * s * (1 - s);
  }
}
export function sigmoidForwardRef(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
