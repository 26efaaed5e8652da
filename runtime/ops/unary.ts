// Float elementwise math, one family: exp, log, neg, abs, sqrt, softsign, elu, selu, hard sigmoid,
// hard swish, gelu (erf and tanh forms), erf, reciprocal, clip, affine scale. Each is y = f(x) over n floats;
// backward accumulates dx += dy * f'(x) and reads the saved input x. It is NOT the home of relu,
// sigmoid, tanh, softplus, leaky relu (their own files predate this one) nor of integer math.
// The switch on fn sits outside the element loop, so a run is one tight loop per call.
// Parameters p = [p0, p1] per fn: elu (alpha), selu (alpha, gamma), hard sigmoid (alpha, beta),
// clip (min, max), scale (mul, add); unused otherwise.
// NOTE: the parameters come in a Float64Array, not as number arguments: a double passed to a
// call V8 does not inline is boxed (one heap allocation per call); an array reference is not.
// NOTE: derivatives at kinks follow PyTorch: abs'(0) = 0, clip passes the gradient where
// min <= x <= max (inclusive), hardswish'(x) = (2x + 3)/6 on [-3, 3], elu'(0) = alpha.

export const UnaryFn = {
  Exp: 0, Log: 1, Neg: 2, Abs: 3, Sqrt: 4, Softsign: 5, Elu: 6, Selu: 7, HardSigmoid: 8,
  HardSwish: 9, Gelu: 10, GeluTanh: 11, Clip: 12, Scale: 13, Reciprocal: 14, Erf: 15,
} as const;
export type UnaryFnKind = (typeof UnaryFn)[keyof typeof UnaryFn];
export const UNARY_FN_NAMES: readonly string[] = Object.keys(UnaryFn);

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** erfc with relative error < 1.2e-7 everywhere (Numerical Recipes' erfcc, Chebyshev fit).
 * NOTE: gelu uses erfc(-x/sqrt2) rather than 1 + erf(x/sqrt2): for x << 0 the latter cancels and
 * an absolute-error erf approximation gives a wrong gelu tail. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

export function mathForward(a: Float32Array, fn: number, y: number, x: number, n: number, p: Float64Array): void {
  const p0 = p[0]!, p1 = p[1]!;
  switch (fn) {
    case UnaryFn.Exp: for (let i = 0; i < n; i++) a[y + i] = Math.exp(a[x + i]!); return;
    case UnaryFn.Log: for (let i = 0; i < n; i++) a[y + i] = Math.log(a[x + i]!); return;
    case UnaryFn.Neg: for (let i = 0; i < n; i++) a[y + i] = -a[x + i]!; return;
    case UnaryFn.Abs: for (let i = 0; i < n; i++) a[y + i] = Math.abs(a[x + i]!); return;
    case UnaryFn.Sqrt: for (let i = 0; i < n; i++) a[y + i] = Math.sqrt(a[x + i]!); return;
    case UnaryFn.Reciprocal: for (let i = 0; i < n; i++) a[y + i] = 1 / a[x + i]!; return;
    case UnaryFn.Erf: for (let i = 0; i < n; i++) a[y + i] = 1 - erfc(a[x + i]!); return;
    case UnaryFn.Softsign: for (let i = 0; i < n; i++) { const v = a[x + i]!; a[y + i] = v / (1 + Math.abs(v)); } return;
    case UnaryFn.Elu: for (let i = 0; i < n; i++) { const v = a[x + i]!; a[y + i] = v > 0 ? v : p0 * Math.expm1(v); } return;
    case UnaryFn.Selu: for (let i = 0; i < n; i++) { const v = a[x + i]!; a[y + i] = p1 * (v > 0 ? v : p0 * Math.expm1(v)); } return;
    case UnaryFn.HardSigmoid:
      for (let i = 0; i < n; i++) { const v = p0 * a[x + i]! + p1; a[y + i] = v <= 0 ? 0 : v >= 1 ? 1 : v; }
      return;
    case UnaryFn.HardSwish:
      for (let i = 0; i < n; i++) { const v = a[x + i]!; const h = v / 6 + 0.5; a[y + i] = v * (h <= 0 ? 0 : h >= 1 ? 1 : h); }
      return;
    case UnaryFn.Gelu: for (let i = 0; i < n; i++) { const v = a[x + i]!; a[y + i] = 0.5 * v * erfc(-v * SQRT1_2); } return;
    case UnaryFn.GeluTanh:
      for (let i = 0; i < n; i++) { const v = a[x + i]!; a[y + i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))); }
      return;
    case UnaryFn.Clip:
      // NOTE: min(max(x, lo), hi) as ONNX defines it: with lo > hi every output is hi; NaN stays NaN
      for (let i = 0; i < n; i++) { const v = a[x + i]!; const m = v < p0 ? p0 : v; a[y + i] = m > p1 ? p1 : m; }
      return;
    case UnaryFn.Scale: for (let i = 0; i < n; i++) a[y + i] = p0 * a[x + i]! + p1; return;
    default: return;
  }
}

export function mathBackward(a: Float32Array, fn: number, dx: number, dy: number, x: number, n: number, p: Float64Array): void {
  const p0 = p[0]!, p1 = p[1]!;
  switch (fn) {
    case UnaryFn.Exp: for (let i = 0; i < n; i++) a[dx + i] += a[dy + i]! * Math.exp(a[x + i]!); return;
    case UnaryFn.Log: for (let i = 0; i < n; i++) a[dx + i] += a[dy + i]! / a[x + i]!; return;
    case UnaryFn.Neg: for (let i = 0; i < n; i++) a[dx + i] -= a[dy + i]!; return;
    case UnaryFn.Abs: for (let i = 0; i < n; i++) { const v = a[x + i]!; a[dx + i] += v > 0 ? a[dy + i]! : v < 0 ? -a[dy + i]! : 0; } return;
    case UnaryFn.Sqrt: for (let i = 0; i < n; i++) a[dx + i] += a[dy + i]! * 0.5 / Math.sqrt(a[x + i]!); return;
    case UnaryFn.Reciprocal: for (let i = 0; i < n; i++) { const v = a[x + i]!; a[dx + i] -= a[dy + i]! / (v * v); } return;
    case UnaryFn.Erf: for (let i = 0; i < n; i++) { const v = a[x + i]!; a[dx + i] += a[dy + i]! * 2 * INV_SQRT_2PI * Math.SQRT2 * Math.exp(-v * v); } return;
    case UnaryFn.Softsign: for (let i = 0; i < n; i++) { const d = 1 + Math.abs(a[x + i]!); a[dx + i] += a[dy + i]! / (d * d); } return;
    case UnaryFn.Elu: for (let i = 0; i < n; i++) { const v = a[x + i]!; a[dx + i] += a[dy + i]! * (v > 0 ? 1 : p0 * Math.exp(v)); } return;
    case UnaryFn.Selu: for (let i = 0; i < n; i++) { const v = a[x + i]!; a[dx + i] += a[dy + i]! * p1 * (v > 0 ? 1 : p0 * Math.exp(v)); } return;
    case UnaryFn.HardSigmoid:
      for (let i = 0; i < n; i++) { const v = p0 * a[x + i]! + p1; if (v > 0 && v < 1) a[dx + i] += a[dy + i]! * p0; }
      return;
    case UnaryFn.HardSwish:
      for (let i = 0; i < n; i++) {
        const v = a[x + i]!;
        a[dx + i] += v < -3 ? 0 : v > 3 ? a[dy + i]! : a[dy + i]! * (2 * v + 3) / 6;
      }
      return;
    case UnaryFn.Gelu:
      for (let i = 0; i < n; i++) {
        const v = a[x + i]!;
        a[dx + i] += a[dy + i]! * (0.5 * erfc(-v * SQRT1_2) + v * Math.exp(-0.5 * v * v) * INV_SQRT_2PI);
      }
      return;
    case UnaryFn.GeluTanh:
      for (let i = 0; i < n; i++) {
        const v = a[x + i]!;
        const u = SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
        const t = Math.tanh(u);
        const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
        a[dx + i] += a[dy + i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
      }
      return;
    case UnaryFn.Clip:
      for (let i = 0; i < n; i++) { const v = a[x + i]!; if (v >= p0 && v <= p1) a[dx + i] += a[dy + i]!; }
      return;
    case UnaryFn.Scale: for (let i = 0; i < n; i++) a[dx + i] += p0 * a[dy + i]!; return;
    default: return;
  }
}

/** Naive twin: f(x) for one number, straight from the ONNX definitions (erf via the series). */
export function mathForwardRef(fn: number, x: number, p0: number, p1: number): number {
  switch (fn) {
    case UnaryFn.Exp: return Math.exp(x);
    case UnaryFn.Log: return Math.log(x);
    case UnaryFn.Neg: return -x;
    case UnaryFn.Abs: return Math.abs(x);
    case UnaryFn.Sqrt: return Math.sqrt(x);
    case UnaryFn.Reciprocal: return 1 / x;
    case UnaryFn.Erf: return erfSeries(x);
    case UnaryFn.Softsign: return x / (1 + Math.abs(x));
    case UnaryFn.Elu: return x > 0 ? x : p0 * (Math.exp(x) - 1);
    case UnaryFn.Selu: return x > 0 ? p1 * x : p1 * p0 * (Math.exp(x) - 1);
    case UnaryFn.HardSigmoid: return Math.max(0, Math.min(1, p0 * x + p1));
    case UnaryFn.HardSwish: return x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case UnaryFn.Gelu: return 0.5 * x * (1 + erfSeries(x / Math.SQRT2));
    case UnaryFn.GeluTanh: return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case UnaryFn.Clip: return Math.min(Math.max(x, p0), p1);
    case UnaryFn.Scale: return p0 * x + p1;
    default: return NaN;
  }
}

/** erf by its Taylor series (|x| <= 3) or the asymptotic 1 - erfc; for the twin only (slow). */
function erfSeries(x: number): number {
  if (Math.abs(x) > 3) return x > 0 ? 1 - erfc(x) : erfc(-x) - 1;
  let sum = 0, term = x;
  for (let k = 0; k < 200; k++) {
    sum += term / (2 * k + 1);
    term *= -x * x / (k + 1);
  }
  return 2 / Math.sqrt(Math.PI) * sum;
}
