// softplus (PyTorch): y = x where beta*x > threshold (strictly), else log1p(exp(beta*x))/beta.
// Elementwise over n floats; backward needs the input x: dx = g*z/(z+1), z = exp(beta*x).
// p = [beta, threshold] (a Float64Array: double arguments to a non-inlined call are boxed).
// NOTE: log1p keeps precision for very negative x, where exp(beta*x) underflows towards 0.
export function softplusForward(a: Float32Array, y: number, x: number, n: number, p: Float64Array): void {
  const beta = p[0]!, threshold = p[1]!;
  for (let i = 0; i < n; i++) {
    const v = a[x + i]!;
    const bx = v * beta;
    a[y + i] = bx > threshold ? v : Math.log1p(Math.exp(bx)) / beta;
  }
}
export function softplusBackward(a: Float32Array, dx: number, dy: number, x: number, n: number,
                                 p: Float64Array): void {
  const beta = p[0]!, threshold = p[1]!;
  for (let i = 0; i < n; i++) {
    const bx = a[x + i]! * beta;
    const g = a[dy + i]!;
    if (bx > threshold) {
      a[dx + i] += g;
    } else {
      const z = Math.exp(bx);
      a[dx + i] += g * z / (z + 1);
    }
  }
}
export function softplusForwardRef(x: number, beta: number, threshold: number): number {
  return x * beta > threshold ? x : Math.log(1 + Math.exp(beta * x)) / beta;
}
