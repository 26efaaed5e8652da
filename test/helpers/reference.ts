// Loading PyTorch reference cases (test/fixtures/reference/*.json, copied from ../shared/reference)
// and comparing arrays with the case's stated tolerance: |actual - expected| <= abs + rel*|expected|.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface RefTensor {
  readonly shape: number[];
  readonly dtype: 'float32' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';
  readonly data: (number | string)[];
}
export interface Tolerance { readonly abs: number; readonly rel: number }
export interface RefCase {
  readonly name: string;
  readonly kind: string;
  readonly description: string;
  readonly tolerance: Tolerance;
  readonly tolerance_overrides?: Record<string, Tolerance>;
  readonly params: Record<string, unknown>;
  readonly layers?: Record<string, unknown>[];
  readonly inputs: Record<string, RefTensor>;
  readonly expected: Record<string, RefTensor>;
  readonly [key: string]: unknown;
}

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', 'fixtures');
export const REFERENCE_DIR = join(FIXTURES, 'reference');

export function loadCase(name: string): RefCase {
  return JSON.parse(readFileSync(join(REFERENCE_DIR, `${name}.json`), 'utf8')) as RefCase;
}

/** Names of every fixture case of one kind (from the copied index.json). */
export function casesOfKind(kind: string): string[] {
  const idx = JSON.parse(readFileSync(join(REFERENCE_DIR, 'index.json'), 'utf8')) as {
    cases: { name: string; kind: string }[];
  };
  return idx.cases.filter((c) => c.kind === kind).map((c) => c.name);
}

function num(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'nan' || v === 'NaN') return NaN;
  if (v === 'inf' || v === 'Infinity') return Infinity;
  if (v === '-inf' || v === '-Infinity') return -Infinity;
  return Number(v);
}

/** float32 tensor data, each decimal rounded to float32 as the fixture conventions say. */
export function f32(t: RefTensor): Float32Array {
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(num(t.data[i]!));
  return out;
}
export function f64(t: RefTensor): Float64Array {
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = num(t.data[i]!);
  return out;
}
export function ints(t: RefTensor): Int32Array {
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = num(t.data[i]!);
  return out;
}

export function toleranceFor(c: RefCase, key: string): Tolerance {
  return c.tolerance_overrides?.[key] ?? c.tolerance;
}

/** First index that violates the tolerance, with a readable report; null when all pass. */
export function mismatch(
  actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance,
): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} != expected ${expected.length}`;
  let worst = -1, worstExcess = 0, bad = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    const excess = Math.abs(a - e) - (tol.abs + tol.rel * Math.abs(e));
    if (!(excess <= 0)) { bad++; if (worst < 0 || excess > worstExcess || Number.isNaN(excess)) { worst = i; worstExcess = excess; } }
  }
  if (bad === 0) return null;
  return `${bad}/${expected.length} outside abs ${tol.abs} + rel ${tol.rel}; worst at [${worst}]: actual ${actual[worst]} expected ${expected[worst]}`;
}

/** Throws (fails the test) with the report when any element is outside the tolerance. */
export function expectClose(
  label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance,
): void {
  const m = mismatch(actual, expected, tol);
  if (m !== null) throw new Error(`${label}: ${m}`);
}
