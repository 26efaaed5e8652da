// Loader of the WebAssembly SIMD kernels (kernels.wat, embedded as base64 in kernels-binary.ts):
// detects SIMD support, creates ONE WebAssembly.Memory sized for an arena, instantiates the module
// synchronously against it, and hands back the exported kernels as plain typed functions.
// Not here: choosing between these and the JS kernels (the executor / executor-hooks.ts), shape
// checks (the builder), the arena layout (the planner: pass `kernels.buffer` as compile()'s
// `backing`).
//
// Calling convention (see kernels.wat): every kernel takes the JS kernel's arguments in the same
// order minus the leading Float32Array, i.e. element indices into the arena views over
// `kernels.buffer` (f32/i32 index, or Int8Array index = byte for int8 buffers), -1 for an absent
// buffer. The functions are the module's exports themselves (no JS wrapper), so a call allocates
// nothing. Kernels never throw, except that an index outside the memory traps (a planner bug).
//
// NOTE: the memory is created with maximum = initial pages, so nothing can grow it: growing
// would detach `buffer` and every Float32Array view the arena holds over it.
import { EdgennError } from '../errors.js';
import { KERNELS_WASM_BASE64, KERNELS_WASM_BYTES } from './kernels-binary.js';
import { webAssemblyApi, type WasmMemory, type WasmModule } from './webassembly.js';

export const WASM_PAGE_BYTES = 65536;

/** Epilogue activation of denseForward (fused after the bias). tanh/sigmoid stay in JS: there is
 *  no wasm instruction for exp, and a polynomial would break parity with the JS kernels. */
export const DenseAct = { None: 0, Relu: 1, LeakyRelu: 2 } as const;
export type DenseAct = typeof DenseAct[keyof typeof DenseAct];

/** sgdStep flags (bit set), mirroring SgdOptimizer's branches */
export const SgdFlag = { WeightDecay: 1, Momentum: 2, Nesterov: 4, FirstStep: 8, Maximize: 16 } as const;
/** adamStep flags (bit set), mirroring AdamOptimizer's branches */
export const AdamFlag = { Decoupled: 1, L2: 2, Amsgrad: 4, Maximize: 8 } as const;

export interface WasmKernels {
  readonly memory: WasmMemory;
  /** the memory's buffer: place the arena here (compile(graph, { backing: { buffer, base } })) */
  readonly buffer: ArrayBuffer;
  /** usable bytes of `buffer` */
  readonly bytes: number;
  /** y (B,O) = act(x (B,I) · w (O,I)ᵀ + b (O) | -1); act = DenseAct, slope for LeakyRelu */
  denseForward(y: number, x: number, w: number, b: number, B: number, I: number, O: number,
               act: DenseAct, slope: number): void;
  /** dx (B,I) += dy·w, dw (O,I) += dyᵀ·x, db (O) += Σ_b dy; any of dx, dw, db may be -1 */
  denseBackward(dx: number, dw: number, db: number, dy: number, x: number, w: number,
                B: number, I: number, O: number): void;
  reluForward(y: number, x: number, n: number): void;
  /** y = tanh(x) by a rational approximation: within 7 ulp of Math.tanh (see kernels.wat) */
  tanhForward(y: number, x: number, n: number): void;
  /** uses the output y, like reluBackward */
  reluBackward(dx: number, dy: number, y: number, n: number): void;
  leakyReluForward(y: number, x: number, n: number, slope: number): void;
  leakyReluBackward(dx: number, dy: number, x: number, n: number, slope: number): void;
  /** one SGD update; the scalars are SgdOptimizer.step's (see executor-hooks.ts wasmOptimizerStep) */
  sgdStep(p: number, g: number, s: number, n: number, negLr: number, wd: number, mom: number,
          keep: number, flags: number): void;
  /** one Adam/AdamW update; the scalars are AdamOptimizer.step's */
  adamStep(p: number, g: number, s: number, n: number, negStep: number, bc2Sqrt: number, eps: number,
           b1: number, c1: number, b2: number, c2: number, decay: number, wd: number, flags: number): void;
  /** y (B,O) int32 = bias (O) int32 | -1 + x (B,I) int8 · w (O,I) int8 ᵀ; x, w Int8Array indices,
   *  y, bias Int32Array indices */
  denseInt8(y: number, x: number, w: number, bias: number, B: number, I: number, O: number): void;
  /** y_q (rows, O) int8/uint8 codes (byte index) = clamp(yZero + requant(acc (rows, O) int32)) with
   *  the multipliers and shifts of rq (Int32Array index; layout of runtime/ops/int8-op.ts);
   *  bit-exact with int8RequantizeRows */
  requantizeInt8(y: number, acc: number, rq: number, rows: number, O: number, yZero: number, actMin: number, actMax: number): void;
  /** q (n) int8/uint8 codes (byte index) = clamp(round_half_even(x / scale) + zp) per tensor, qp the
   *  f32 index of [scale, zero point]; onnx 1 divides, 0 multiplies by 1/scale; bit-exact with
   *  quantizeForward */
  quantizeInt8(q: number, x: number, qp: number, n: number, qmin: number, qmax: number, onnx: number): void;
}

/** A module using one SIMD instruction: (func (result v128) (v128.const i32x4 0 0 0 0)). */
const SIMD_PROBE = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                 // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,                       // type: () -> v128
  0x03, 0x02, 0x01, 0x00,                                         // one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c,                       // code: v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
);

let simdCache: boolean | null = null;
/** the kernels' compiled module, compiled once per process and instantiated per memory */
let compiledModule: WasmModule | null = null;

/** Whether this host runs WebAssembly SIMD (Node >= 16.4 on x64 and arm64 does). Cached. */
export function wasmSimdSupported(): boolean {
  if (simdCache === null) {
    const wa = webAssemblyApi();
    try {
      simdCache = wa !== null && wa.validate(SIMD_PROBE);
    } catch {
      simdCache = false;
    }
  }
  return simdCache;
}

/** The embedded module's bytes (decoded from base64 without Buffer, so any JS host works). */
export function kernelsWasmBytes(): Uint8Array {
  const s = KERNELS_WASM_BASE64;
  const out = new Uint8Array(KERNELS_WASM_BYTES);
  let acc = 0, bits = 0, j = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c >= 65 && c <= 90 ? c - 65 : c >= 97 && c <= 122 ? c - 71 : c >= 48 && c <= 57 ? c + 4
      : c === 43 ? 62 : c === 47 ? 63 : -1;                         // '=' padding ends the data
    if (v < 0) break;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  if (j !== KERNELS_WASM_BYTES) {
    throw new EdgennError('DECODE', 'embedded wasm kernels are corrupt',
      { file: 'runtime/wasm/kernels-binary.ts', expected: `${KERNELS_WASM_BYTES} bytes`, actual: `${j} bytes` });
  }
  return out;
}

/** Pages for an arena of `arenaBytes` placed at byte `base` (one page of slack). */
export function wasmPagesFor(arenaBytes: number, base = 0): number {
  return Math.ceil((base + arenaBytes) / WASM_PAGE_BYTES) + 1;
}

/**
 * Creates a memory of at least `memoryBytes` (+ one page of slack; never grown) and the kernels
 * over it, synchronously. Returns null where WebAssembly SIMD is unavailable (the caller keeps the
 * JS kernels). Throws EdgennError('ARG') for a bad size.
 */
export function createWasmKernels(memoryBytes: number): WasmKernels | null {
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes < 0) {
    throw new EdgennError('ARG', 'wasm memory size must be a non-negative integer of bytes', { actual: String(memoryBytes) });
  }
  const pages = wasmPagesFor(memoryBytes);
  if (pages > 65536) {
    throw new EdgennError('LIMIT', 'wasm memory cannot exceed 4 GiB', { expected: '<= 65536 pages', actual: `${pages} pages` });
  }
  const wa = webAssemblyApi();
  if (wa === null || !wasmSimdSupported()) return null;
  let memory: WasmMemory;
  let exports: Readonly<Record<string, unknown>>;
  try {
    memory = new wa.Memory({ initial: pages, maximum: pages });
    // NOTE: synchronous compile is fine for a ~7 KB module (browsers limit sync compiles of
    // modules > 4 KB on the main thread; Node does not). WebAssembly compilation is not affected
    // by --disallow-code-generation-from-strings (that flag only blocks eval / new Function).
    compiledModule ??= new wa.Module(kernelsWasmBytes());
    exports = new wa.Instance(compiledModule, { env: { memory } }).exports;
  } catch {
    return null;                                                  // e.g. SIMD disabled by a flag
  }
  const fn = <T>(name: string): T => {
    const f = exports[name];
    if (typeof f !== 'function') {
      throw new EdgennError('UNSUPPORTED', 'embedded wasm kernels lack an export', { file: 'runtime/wasm/kernels.wat', expected: name });
    }
    return f as T;
  };
  return {
    memory,
    buffer: memory.buffer,
    bytes: memory.buffer.byteLength,
    denseForward: fn('dense_forward'),
    denseBackward: fn('dense_backward'),
    reluForward: fn('relu_forward'),
    tanhForward: fn('tanh_forward'),
    reluBackward: fn('relu_backward'),
    leakyReluForward: fn('leaky_relu_forward'),
    leakyReluBackward: fn('leaky_relu_backward'),
    sgdStep: fn('sgd_step'),
    adamStep: fn('adam_step'),
    denseInt8: fn('dense_int8'),
    requantizeInt8: fn('requantize_int8'),
    quantizeInt8: fn('quantize_int8'),
  };
}
