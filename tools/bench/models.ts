// The benchmark's models, data and float64 references. Every implementation gets the very same
// seeded weights and inputs from here, so the correctness guard can demand equal outputs. It is
// NOT an implementation under test: the reference forward and loss are naive float64 loops used
// only to check the implementations before timing.
//
// Dimensions: B batch, I in features, O out features, C classes.
// Weights are in PyTorch's nn.Linear layout: layer l has w (O, I) and b (O); adapters whose
// library prefers (I, O) transpose a copy once at set-up.
import { Rng } from '../../runtime/random.js';

export type ModelName = 'T' | 'S' | 'M';

export interface MlpSpec {
  readonly name: ModelName;
  /** layer widths, input first: [I, hidden..., C] */
  readonly sizes: readonly number[];
  /** activation after every layer but the last (the last layer's output is the logits) */
  readonly activation: 'tanh' | 'relu';
}

export const MODELS: readonly MlpSpec[] = [
  { name: 'T', sizes: [16, 32, 32, 4], activation: 'tanh' },
  { name: 'S', sizes: [784, 128, 10], activation: 'relu' },
  { name: 'M', sizes: [784, 256, 128, 10], activation: 'relu' },
];

export interface MlpDef {
  readonly spec: MlpSpec;
  /** weights[l] is (sizes[l+1], sizes[l]) row-major */
  readonly weights: readonly Float32Array[];
  /** biases[l] is (sizes[l+1]) */
  readonly biases: readonly Float32Array[];
}

export function modelSpec(name: ModelName): MlpSpec {
  return MODELS.find((m) => m.name === name)!;
}

export function inFeatures(spec: MlpSpec): number {
  return spec.sizes[0]!;
}

export function classes(spec: MlpSpec): number {
  return spec.sizes[spec.sizes.length - 1]!;
}

/** Weights drawn like PyTorch's nn.Linear default: U(-1/sqrt(I), 1/sqrt(I)) for w and b. */
export function makeMlp(spec: MlpSpec, seed: number): MlpDef {
  const rng = new Rng(seed);
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l + 1 < spec.sizes.length; l++) {
    const I = spec.sizes[l]!, O = spec.sizes[l + 1]!;
    const bound = 1 / Math.sqrt(I);
    const w = new Float32Array(O * I);
    for (let k = 0; k < w.length; k++) w[k] = rng.uniform(-bound, bound);
    const b = new Float32Array(O);
    for (let k = 0; k < O; k++) b[k] = rng.uniform(-bound, bound);
    weights.push(w);
    biases.push(b);
  }
  return { spec, weights, biases };
}

/** B input rows: U(0, 1) for the 784-wide models (pixel-like), U(-1, 1) for T. */
export function makeInputs(spec: MlpSpec, B: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const lo = inFeatures(spec) === 784 ? 0 : -1;
  const x = new Float32Array(B * inFeatures(spec));
  for (let k = 0; k < x.length; k++) x[k] = rng.uniform(lo, 1);
  return x;
}

/** B class indices in [0, C). */
export function makeLabels(C: number, B: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const y = new Int32Array(B);
  for (let k = 0; k < B; k++) y[k] = rng.int(C);
  return y;
}

/** Uniform values in [lo, hi) (GEMM operands). */
export function makeUniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(n);
  for (let k = 0; k < n; k++) v[k] = rng.uniform(lo, hi);
  return v;
}

/** Float64 forward of the MLP on B rows of x: logits (B, C). */
export function refForward(def: MlpDef, x: Float32Array, B: number): Float64Array {
  const sizes = def.spec.sizes;
  let h: Float64Array = Float64Array.from(x.subarray(0, B * sizes[0]!));
  for (let l = 0; l + 1 < sizes.length; l++) {
    const I = sizes[l]!, O = sizes[l + 1]!;
    const w = def.weights[l]!, b = def.biases[l]!;
    const y = new Float64Array(B * O);
    const last = l + 2 === sizes.length;
    for (let r = 0; r < B; r++) {
      for (let o = 0; o < O; o++) {
        let s = b[o]!;
        for (let i = 0; i < I; i++) s += h[r * I + i]! * w[o * I + i]!;
        y[r * O + o] = last ? s : def.spec.activation === 'tanh' ? Math.tanh(s) : Math.max(0, s);
      }
    }
    h = y;
  }
  return h;
}

/** Mean cross-entropy of logits (B, C) against class indices, in float64 (PyTorch's definition). */
export function refCrossEntropy(logits: Float64Array, labels: Int32Array, B: number, C: number): number {
  let total = 0;
  for (let r = 0; r < B; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[r * C + c]!);
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(logits[r * C + c]! - m);
    total += m + Math.log(z) - logits[r * C + labels[r]!]!;
  }
  return total / B;
}

// ---- GEMM kernel shapes -------------------------------------------------------------------------

/** A dense-layer GEMM: x (B, I) times w (O, I)ᵀ. */
export interface GemmShape {
  readonly B: number;
  readonly I: number;
  readonly O: number;
}

export const GEMM_SHAPES: readonly GemmShape[] = [
  { B: 32, I: 784, O: 128 },
  { B: 64, I: 256, O: 128 },
  { B: 1, I: 784, O: 256 },
];

/** 'fwd' is y = x wᵀ; 'bwd' is dx = dy w and dw = dyᵀ x (the two products training needs). */
export type GemmKernel = 'fwd' | 'bwd';

export function gemmLabel(s: GemmShape): string {
  return `${s.B}x${s.I}x${s.O}`;
}

/** Floating-point operations of one call: a multiply-add counts 2; bias terms are not counted. */
export function gemmFlops(s: GemmShape, k: GemmKernel): number {
  return (k === 'fwd' ? 2 : 4) * s.B * s.I * s.O;
}

export interface GemmData {
  readonly shape: GemmShape;
  /** x (B, I) */
  readonly x: Float32Array;
  /** w (O, I) */
  readonly w: Float32Array;
  /** dy (B, O) */
  readonly dy: Float32Array;
}

export function makeGemmData(shape: GemmShape, seed: number): GemmData {
  const { B, I, O } = shape;
  const bound = 1 / Math.sqrt(I);
  return {
    shape,
    x: makeUniform(B * I, 0, 1, seed),
    w: makeUniform(O * I, -bound, bound, seed + 1),
    dy: makeUniform(B * O, -1, 1, seed + 2),
  };
}

/** Float64 results: fwd → [y (B, O)]; bwd → [dx (B, I), dw (O, I)]. */
export function refGemm(d: GemmData, k: GemmKernel): Float64Array[] {
  const { B, I, O } = d.shape;
  if (k === 'fwd') {
    const y = new Float64Array(B * O);
    for (let r = 0; r < B; r++) {
      for (let o = 0; o < O; o++) {
        let s = 0;
        for (let i = 0; i < I; i++) s += d.x[r * I + i]! * d.w[o * I + i]!;
        y[r * O + o] = s;
      }
    }
    return [y];
  }
  const dx = new Float64Array(B * I);
  const dw = new Float64Array(O * I);
  for (let r = 0; r < B; r++) {
    for (let o = 0; o < O; o++) {
      const g = d.dy[r * O + o]!;
      for (let i = 0; i < I; i++) {
        dx[r * I + i] += g * d.w[o * I + i]!;
        dw[o * I + i] += g * d.x[r * I + i]!;
      }
    }
  }
  return [dx, dw];
}
