// The request format shared by every inference source (JSON lines on stdin or in a tailed file,
// HTTP bodies), documented in CONFIG.md:
//   {"id": <any JSON>, "x": [...]}                  → {"id": ..., "y": [...], "ms": <latency>}
//   {"id": <optional>, "x": [...], "label": L}      → {"id": ..., "ok": true, "buffered": n, "dropped": d}
//   anything wrong                                  → {"id": ... (when readable), "error": "..."}
// `x` is one sample: a flat array of I numbers, or nested arrays of the input's dims (flattened
// row-major). `label` is a class index (cross-entropy / nll) or a number / array of numbers shaped
// like the output. Output numbers are float32 in their shortest exact decimal; a NaN or ±Inf
// output is written as null (JSON has no NaN).
//
// What it is: parsing and formatting, no I/O, never throws (input is untrusted). What it is not:
// the model (the ServingPort does the work).

import { f32Shortest } from '../../importers/json-model.js';

/** What a source needs from the agent. */
export interface ServingPort {
  /** One sample → output view (first `outputFloats` values valid until the next call); throws
   * EdgennError for bad input. */
  infer(x: ArrayLike<number>): Float32Array;
  readonly outputFloats: number;
  /** Latency of the last infer(), µs. */
  readonly lastLatencyUs: number;
  /** Buffers a labelled sample for fine-tuning; throws EdgennError for a bad sample or when
   * fine-tuning is not configured. */
  addSample(x: ArrayLike<number>, label: number | readonly number[]): { buffered: number; dropped: number };
}

export type Request =
  | { readonly kind: 'infer'; readonly id: unknown; readonly x: number[] }
  | { readonly kind: 'sample'; readonly id: unknown; readonly x: number[]; readonly label: number | number[] };

const MAX_DEPTH = 8;

/** Flattens nested arrays of numbers (depth <= 8); null if anything else is inside. */
export function flattenNumbers(v: unknown): number[] | null {
  const out: number[] = [];
  const walk = (a: unknown, depth: number): boolean => {
    if (!Array.isArray(a) || depth > MAX_DEPTH) return false;
    for (const e of a) {
      if (typeof e === 'number') out.push(e);
      else if (!walk(e, depth + 1)) return false;
    }
    return true;
  };
  return walk(v, 0) ? out : null;
}

/** A parsed JSON value → request, or an error message. */
export function parseRequest(v: unknown): Request | { readonly error: string; readonly id: unknown } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'expected a JSON object like {"id": 1, "x": [...]}', id: undefined };
  const o = v as Record<string, unknown>;
  const id = o.id;
  for (const k of Object.keys(o)) {
    if (k !== 'id' && k !== 'x' && k !== 'label') return { error: `unknown key ${JSON.stringify(k)} (expected id, x, label)`, id };
  }
  const x = flattenNumbers(o.x);
  if (x === null) return { error: 'x must be an array of numbers (nested arrays are flattened)', id };
  if (o.label === undefined) return { kind: 'infer', id, x };
  if (typeof o.label === 'number') return { kind: 'sample', id, x, label: o.label };
  const label = flattenNumbers(o.label);
  if (label === null) return { error: 'label must be a number or an array of numbers', id };
  return { kind: 'sample', id, x, label };
}

/** Output values as a JSON array text: float32 shortest decimals, null for NaN/±Inf. */
export function formatOutput(y: Float32Array, n: number): string {
  let s = '[';
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (i > 0) s += ',';
    s += Number.isFinite(v) ? (Object.is(v, -0) ? '-0' : String(f32Shortest(v))) : 'null';
  }
  return s + ']';
}

function idPart(id: unknown): string {
  if (id === undefined) return '';
  const s = JSON.stringify(id);
  return s === undefined ? '' : `"id":${s},`;
}

/** Runs one request against the port; returns the JSON response text (no newline) and whether it
 * was an error. Never throws. */
export function serveRequest(port: ServingPort, v: unknown): { text: string; ok: boolean } {
  const r = parseRequest(v);
  if ('error' in r) return { text: `{${idPart(r.id)}"error":${JSON.stringify(r.error)}}`, ok: false };
  try {
    if (r.kind === 'infer') {
      const y = port.infer(r.x);
      const ms = Math.round(port.lastLatencyUs) / 1000;
      return { text: `{${idPart(r.id)}"y":${formatOutput(y, port.outputFloats)},"ms":${ms}}`, ok: true };
    }
    const s = port.addSample(r.x, r.label);
    return { text: `{${idPart(r.id)}"ok":true,"buffered":${s.buffered},"dropped":${s.dropped}}`, ok: true };
  } catch (e) {
    return { text: `{${idPart(r.id)}"error":${JSON.stringify((e as Error).message)}}`, ok: false };
  }
}

/** One line of a JSON-lines source → the response line (no newline), or null for a blank line. */
export function serveLine(port: ServingPort, line: string): string | null {
  const t = line.trim();
  if (t === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return `{"error":${JSON.stringify(`not valid JSON: ${t.length > 60 ? t.slice(0, 60) + '...' : t}`)}}`;
  }
  return serveRequest(port, v).text;
}
