// leaky_relu: y = x for x > 0, slope*x otherwise; elementwise over n floats. p = [slope]
// (a Float64Array: a double argument to a non-inlined call would be boxed, an allocation).
// NOTE: the slope is rounded to float32 first and the product rounded once, which is exactly
// float32 multiplication (PyTorch: -20 * 0.01f = -0.19999999). The gradient at 0 is the slope.
export function leakyReluForward(a: Float32Array, y: number, x: number, n: number, p: Float64Array): void {
  const s = Math.fround(p[0]!);
  for (let i = 0; i < n; i++) {
    const v = a[x + i]!;
    a[y + i] = v > 0 ? v : v * s;
  }
}
export function leakyReluBackward(a: Float32Array, dx: number, dy: number, x: number, n: number,
                                  p: Float64Array): void {
  const s = Math.fround(p[0]!);
  for (let i = 0; i < n; i++) {
    const g = a[dy + i]!;
    a[dx + i] += a[x + i]! > 0 ? g : g * s;
  }
}
export function leakyReluForwardRef(x: number, slope: number): number {
  return x > 0 ? x : x * slope;
}
