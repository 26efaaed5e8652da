// Data files → LoadedData: the thin node:fs layer over the pure parsers (csv.ts, npy.ts,
// json-tensor.ts), used by `edgenn train --data/--labels`, `edgenn run --input` and the agent.
//
// What it is: dispatch by extension (.csv, .npy, .json; case-insensitive), a size limit checked
// with stat() before reading, conversion to one float32 shape, a finite check (unless
// allowNonFinite), and every error naming the file. What it is not: no streaming, no globbing,
// no type inference (labels come back as float32; checkClassLabels decides if they are classes).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { parseCsv } from './csv.js';
import { decodeNpy, encodeNpy, NPY_DEFAULT_MAX_BYTES, type NpyArray } from './npy.js';
import { parseJsonTensor } from './json-tensor.js';
import { checkFinite } from './checks.js';

export interface LoadOptions {
  /** CSV: name of the label column. Default 'label'. */
  readonly labelColumn?: string;
  /** The labels must come from this file: a CSV without the label column, or a .npy/.json, is an error. */
  readonly requireLabel?: boolean;
  /** Accept NaN / ±Inf values (for `run` inputs). Default false: 'DATA' error. */
  readonly allowNonFinite?: boolean;
  /** Refuse ('LIMIT') files, or npy arrays, larger than this many bytes. Default 1 GiB. */
  readonly maxBytes?: number;
}

export interface LoadedData {
  /** the path as given */
  readonly file: string;
  readonly dims: number[];
  /** C order, product(dims) elements */
  readonly data: Float32Array;
  /** [N], from a CSV label column */
  readonly labels?: Float32Array;
  /** CSV: the feature column names (label column excluded), length dims[1] */
  readonly columns?: string[];
}

export const SUPPORTED_EXTENSIONS: readonly string[] = ['.csv', '.npy', '.json'];

type Format = 'csv' | 'npy' | 'json';

function formatOf(path: string): Format {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.npy') return 'npy';
  if (ext === '.json') return 'json';
  throw new EdgennError('UNSUPPORTED', `unsupported data file extension ${ext === '' ? '(none)' : JSON.stringify(ext)}`,
    { file: path, expected: `one of ${SUPPORTED_EXTENSIONS.join(', ')}` });
}

function ioError(path: string, what: string, e: unknown): EdgennError {
  const err = e as NodeJS.ErrnoException;
  return new EdgennError('IO', `cannot ${what}: ${err.code ?? ''} ${err.message ?? String(e)}`.replace(/\s+/g, ' '), { file: path });
}

/** Read a whole file, refusing it ('LIMIT') before reading when it is larger than maxBytes. */
function readBytes(path: string, maxBytes: number): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'ENOTFILE' });
    size = st.size;
  } catch (e) {
    throw ioError(path, 'read', e);
  }
  if (size > maxBytes) {
    throw new EdgennError('LIMIT', 'file is too large', { file: path, expected: `at most ${maxBytes} bytes`, actual: `${size} bytes` });
  }
  try {
    return readFileSync(path);
  } catch (e) {
    throw ioError(path, 'read', e);
  }
}

function readText(path: string, maxBytes: number): string {
  // TextDecoder drops a leading UTF-8 BOM; the parsers drop one too for direct callers.
  return new TextDecoder('utf-8').decode(readBytes(path, maxBytes));
}

/** Read and decode a .npy file (any supported dtype, see npy.ts). */
export function readNpyFile(path: string, opts: { readonly maxBytes?: number } = {}): NpyArray {
  const maxBytes = opts.maxBytes ?? NPY_DEFAULT_MAX_BYTES;
  return decodeNpy(readBytes(path, maxBytes), { file: path, maxBytes });
}

/** Write a C-order array as .npy ('<f4' or '<i4'). */
export function writeNpyFile(path: string, dims: readonly number[], data: Float32Array | Int32Array): void {
  const bytes = encodeNpy(dims, data);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw ioError(path, 'write', e);
  }
}

/**
 * Load a feature file. CSV: features [N, F] (+ labels [N] when the label column is present);
 * .npy / .json: the tensor as stored, converted to float32.
 */
export function loadDataFile(path: string, opts: LoadOptions = {}): LoadedData {
  const format = formatOf(path);
  const maxBytes = opts.maxBytes ?? NPY_DEFAULT_MAX_BYTES;
  const allowNonFinite = opts.allowNonFinite === true;
  if (format === 'csv') {
    const t = parseCsv(readText(path, maxBytes), {
      file: path, labelColumn: opts.labelColumn ?? 'label', requireLabel: opts.requireLabel === true, allowNonFinite,
    });
    // parseCsv has already refused non-finite cells (naming line and column) unless allowed
    return t.labels !== undefined
      ? { file: path, dims: [t.dims[0], t.dims[1]], data: t.data, labels: t.labels, columns: t.columns }
      : { file: path, dims: [t.dims[0], t.dims[1]], data: t.data, columns: t.columns };
  }
  if (opts.requireLabel === true) {
    throw new EdgennError('DATA', `a .${format} file holds features only; give the labels in a separate labels file`, { file: path });
  }
  const { dims, data } = readTensorFile(format, path, maxBytes, allowNonFinite);
  if (!allowNonFinite) checkFinite(data, dims, path);
  return { file: path, dims, data };
}

/**
 * Load a labels file: [N] (class indices or one target per row) or [N, C] (one-hot,
 * probabilities or several targets). CSV: the label column if the header has it (other columns
 * ignored, e.g. an id), else the single column as [N], else all columns as [N, C].
 */
export function loadLabelsFile(path: string, opts: LoadOptions = {}): LoadedData {
  const format = formatOf(path);
  const maxBytes = opts.maxBytes ?? NPY_DEFAULT_MAX_BYTES;
  const allowNonFinite = opts.allowNonFinite === true;
  if (format === 'csv') {
    const labelColumn = opts.labelColumn ?? 'label';
    const t = parseCsv(readText(path, maxBytes), { file: path, labelColumn: null, allowNonFinite });
    const [N, C] = t.dims;
    const li = t.columns.indexOf(labelColumn);
    if (li >= 0) {
      const col = new Float32Array(N);
      for (let n = 0; n < N; n++) col[n] = t.data[n * C + li]!;
      return { file: path, dims: [N], data: col, columns: [labelColumn] };
    }
    if (opts.requireLabel === true && C !== 1) {
      throw new EdgennError('DATA', `no label column "${labelColumn}" in the labels file`,
        { file: path, expected: `a column named "${labelColumn}" or a single column`, actual: `columns ${t.columns.map((c) => JSON.stringify(c)).join(', ')}` });
    }
    return { file: path, dims: C === 1 ? [N] : [N, C], data: t.data, columns: t.columns };
  }
  const { dims, data } = readTensorFile(format, path, maxBytes, allowNonFinite);
  if (dims.length !== 1 && dims.length !== 2) {
    throw new EdgennError('SHAPE', 'labels must be [N] or [N, C]', { file: path, expected: 'rank 1 or 2', actual: `[${dims.join(', ')}]` });
  }
  if (!allowNonFinite) checkFinite(data, dims, path);
  return { file: path, dims, data };
}

/** A .npy or .json file as float32 with its dims. */
function readTensorFile(format: 'npy' | 'json', path: string, maxBytes: number, allowNonFinite: boolean): { dims: number[]; data: Float32Array } {
  if (format === 'npy') {
    const a = readNpyFile(path, { maxBytes });
    return { dims: a.dims, data: a.toFloat32() };
  }
  return parseJsonTensor(readText(path, maxBytes), { file: path, allowNonFinite });
}
