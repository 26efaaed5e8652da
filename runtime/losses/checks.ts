// Plan-time checks shared by the loss kernels: reductions, flags, dimensions, class targets.
// They throw EdgennError ('ARG' for a bad option, 'SHAPE' for bad dimensions) naming the loss,
// what was expected and what was found. Kernels never call them and never throw; attrs may come
// from JSON or an ONNX importer, so types are checked at run time too.
// checkClassTargets is the exception: it reads data (the int32 labels of a batch), so it returns
// the first bad row instead of throwing and lets the caller (trainer, batch loader) decide.
import { EdgennError, type ErrorContext } from '../errors.js';
import type { Reduction, WeightShape } from './types.js';

export const BASIC_REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];
export const KL_REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none', 'batchmean'];
const WEIGHT_SHAPES: readonly WeightShape[] = ['B', 'C', 'BC'];

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) { try { return JSON.stringify(v); } catch { return 'object'; } }
  return String(v);
}

export function checkReduction(loss: string, v: unknown, allowed: readonly Reduction[],
                               ctx: ErrorContext = {}): void {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new EdgennError('ARG', `${loss}: invalid reduction`, {
      ...ctx, expected: `one of ${allowed.map((r) => `'${r}'`).join(', ')}`, actual: show(v),
    });
  }
}

export function checkFlag(loss: string, name: string, v: unknown, ctx: ErrorContext = {}): void {
  if (typeof v !== 'boolean') {
    throw new EdgennError('ARG', `${loss}: invalid ${name}`, { ...ctx, expected: 'a boolean', actual: show(v) });
  }
}

/** An int32 ignore_index: -100 (PyTorch's default), any negative, or a class in [0, C) to skip. */
export function checkIgnoreIndex(loss: string, v: unknown, ctx: ErrorContext = {}): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
    throw new EdgennError('ARG', `${loss}: invalid ignoreIndex (targets are int32)`, {
      ...ctx, expected: 'an integer in int32 range (PyTorch default -100)', actual: show(v),
    });
  }
}

/** label_smoothing in [0, 1] as PyTorch requires (PyTorch silently ignores negatives; we reject). */
export function checkLabelSmoothing(loss: string, v: unknown, ctx: ErrorContext = {}): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new EdgennError('ARG', `${loss}: invalid labelSmoothing`, {
      ...ctx, expected: 'a number in [0, 1]', actual: show(v),
    });
  }
}

export function checkWeightShape(loss: string, v: unknown, ctx: ErrorContext = {}): void {
  if (v !== undefined && (typeof v !== 'string' || !(WEIGHT_SHAPES as readonly string[]).includes(v))) {
    throw new EdgennError('ARG', `${loss}: invalid weightShape`, {
      ...ctx, expected: "'B', 'C' or 'BC' (or absent, meaning 'C')", actual: show(v),
    });
  }
}

/** B rows and C classes/features: positive integers (an empty batch is a planning error). */
export function checkLossDims(loss: string, B: number, C: number, ctx: ErrorContext = {}): void {
  const ok = (n: number): boolean => Number.isInteger(n) && n >= 1;
  if (!ok(B) || !ok(C)) {
    throw new EdgennError('SHAPE', `${loss}: input must be [B, C] with B >= 1 and C >= 1`, {
      ...ctx, expected: '[B, C] positive integers', actual: `[${B}, ${C}]`,
    });
  }
}

/**
 * First row i in [0, B) whose class index ia[target + i] is neither ignoreIndex nor in [0, C),
 * or -1 when all are valid. Does not throw: PyTorch raises "Target t is out of bounds"; callers
 * throw EdgennError('DATA') with the row. (The kernels turn such a row into a NaN loss.)
 */
export function checkClassTargets(ia: Int32Array, target: number, B: number, C: number,
                                  ignoreIndex: number): number {
  for (let i = 0; i < B; i++) {
    const t = ia[target + i]!;
    if (t !== ignoreIndex && (t < 0 || t >= C)) return i;
  }
  return -1;
}
