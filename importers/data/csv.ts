// CSV with a header row → float features [N, F] and, optionally, one label column [N].
//
// What it is: a pure parser from a string (no file access; load.ts reads the file). It accepts the
// CSV that spreadsheets, pandas and hand editors write: quoted fields ("a,b", "" for a quote, even
// newlines inside quotes), CRLF / LF / CR line ends, a BOM, blank lines (skipped, like pandas),
// spaces around numbers. Every cell other than the header must be a decimal number.
// What it is not: a general CSV library. No other delimiters, no string/categorical columns, no
// missing values: an empty cell is an error (write NaN, and pass allowNonFinite, if one is meant).
//
// Dimension letters: N data rows, F feature columns (every column but the label column).
// Line numbers in messages are 1-based physical lines of the file (the header is line 1).
import { EdgennError } from '../../runtime/errors.js';

export interface CsvOptions {
  /** Name for error messages (the path, when called from a file loader). Default '<input>'. */
  readonly file?: string;
  /** Name of the label column; default 'label'. `null`: no label column, every column is a feature. */
  readonly labelColumn?: string | null;
  /** Throw 'DATA' (listing the columns found) when the label column is absent. Default false. */
  readonly requireLabel?: boolean;
  /** Accept NaN / Inf cells (`nan`, `inf`, `-Infinity`, ...; any case). Default false: refused. */
  readonly allowNonFinite?: boolean;
}

export interface CsvTable {
  /** [N, F] */
  readonly dims: [number, number];
  /** features, row-major: data[n*F + f]; dims [N, F] */
  readonly data: Float32Array;
  /** Feature column names in order (the label column excluded), trimmed. Length F. */
  readonly columns: string[];
  /** The label column as numbers, [N]; present iff the header has the label column. */
  readonly labels?: Float32Array;
  /** Name of the label column when labels are present. */
  readonly labelColumn?: string;
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

/** Scanner state over the whole text; one record at a time. */
interface Scanner {
  readonly text: string;
  readonly file: string;
  pos: number;
  /** physical line at `pos` (1-based) */
  line: number;
}

/**
 * Read the next record into `fields` (cleared first). Returns the line the record starts on, or
 * 0 at end of input. `quoted` reports whether any field was quoted (a quoted "" is not blank).
 * Unquoted fields are one slice each, so parsing is linear in the text length.
 */
function readRecord(s: Scanner, fields: string[], quoted: { any: boolean }): number {
  const text = s.text;
  const n = text.length;
  if (s.pos >= n) return 0;
  fields.length = 0;
  quoted.any = false;
  const startLine = s.line;
  let i = s.pos;
  for (;;) {
    // one field starting at i
    let j = i;
    while (j < n && (text.charCodeAt(j) === SPACE || text.charCodeAt(j) === TAB)) j++;
    if (j < n && text.charCodeAt(j) === QUOTE) {
      quoted.any = true;
      const fieldLine = s.line;
      const pieces: string[] = [];
      let k = j + 1;
      let from = k;
      for (;;) {
        if (k >= n) {
          throw new EdgennError('DATA', `unterminated quoted field starting on line ${fieldLine}`, { file: s.file });
        }
        const c = text.charCodeAt(k);
        if (c === QUOTE) {
          if (k + 1 < n && text.charCodeAt(k + 1) === QUOTE) {
            pieces.push(text.slice(from, k + 1)); // keep one quote of the pair
            k += 2;
            from = k;
            continue;
          }
          pieces.push(text.slice(from, k));
          k++;
          break;
        }
        if (c === LF || (c === CR && !(k + 1 < n && text.charCodeAt(k + 1) === LF))) s.line++;
        k++;
      }
      fields.push(pieces.length === 1 ? pieces[0]! : pieces.join(''));
      while (k < n && (text.charCodeAt(k) === SPACE || text.charCodeAt(k) === TAB)) k++;
      if (k < n) {
        const c = text.charCodeAt(k);
        if (c !== COMMA && c !== LF && c !== CR) {
          throw new EdgennError('DATA',
            `line ${s.line}: unexpected character ${JSON.stringify(text[k])} after a closing quote`, { file: s.file });
        }
      }
      i = k;
    } else {
      let k = i;
      while (k < n) {
        const c = text.charCodeAt(k);
        if (c === COMMA || c === LF || c === CR) break;
        k++;
      }
      fields.push(text.slice(i, k));
      i = k;
    }
    // i is at a comma, a line end or the end of the text
    if (i >= n) {
      s.pos = n;
      return startLine;
    }
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      i++;
      continue;
    }
    // line end: CRLF, LF or a lone CR
    i += c === CR && i + 1 < n && text.charCodeAt(i + 1) === LF ? 2 : 1;
    s.line++;
    s.pos = i;
    return startLine;
  }
}

function isBlank(fields: readonly string[], quoted: boolean): boolean {
  return !quoted && fields.length === 1 && fields[0]!.trim() === '';
}

/** Result of reading one cell: a number, or why it is not one. */
const enum CellKind { Finite, NonFinite, Empty, NotNumber }

let cellValue = 0;
/**
 * Classify a trimmed cell; the value goes to `cellValue` (a module variable, so the 10^6-cell
 * loop allocates nothing per cell).
 */
function readCell(t: string): CellKind {
  if (t.length === 0) return CellKind.Empty;
  const v = Number(t);
  if (Number.isNaN(v)) {
    // Number() refuses nan/inf spellings that numpy and pandas write; recognise them here.
    let w = t.toLowerCase();
    const sign = w.charCodeAt(0) === 45 /* - */ ? -1 : 1;
    if (w.charCodeAt(0) === 45 || w.charCodeAt(0) === 43 /* + */) w = w.slice(1);
    if (w === 'nan') { cellValue = NaN; return CellKind.NonFinite; }
    if (w === 'inf' || w === 'infinity') { cellValue = sign * Infinity; return CellKind.NonFinite; }
    return CellKind.NotNumber;
  }
  // Number() also accepts 0x1f, 0b1, 0o7: not decimal data, refuse them.
  if (t.length > 1 && t.charCodeAt(0) === 48 /* 0 */) {
    const c = t.charCodeAt(1) | 32;
    if (c === 120 /* x */ || c === 98 /* b */ || c === 111 /* o */) return CellKind.NotNumber;
  }
  // NOTE: a value finite in float64 can still overflow float32 (1e39): judge after rounding.
  const f = Math.fround(v);
  cellValue = f;
  return Number.isFinite(f) ? CellKind.Finite : CellKind.NonFinite;
}

/** Growable Float32Array (doubling), so 100k rows cost O(N) copies in total. */
class FloatGrow {
  buf: Float32Array;
  length = 0;
  constructor(capacity: number) { this.buf = new Float32Array(Math.max(16, capacity)); }
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  done(): Float32Array { return this.buf.slice(0, this.length); }
}

/** Parse CSV text with a header row. Throws EdgennError 'DATA' naming the file, line and column. */
export function parseCsv(text: string, opts: CsvOptions = {}): CsvTable {
  const file = opts.file ?? '<input>';
  const labelName = opts.labelColumn === undefined ? 'label' : opts.labelColumn;
  const allowNonFinite = opts.allowNonFinite === true;

  const s: Scanner = { text, file, pos: text.charCodeAt(0) === 0xfeff ? 1 : 0, line: 1 };
  const fields: string[] = [];
  const quoted = { any: false };

  // header: the first record that is not blank
  let headerLine = 0;
  for (;;) {
    headerLine = readRecord(s, fields, quoted);
    if (headerLine === 0) throw new EdgennError('DATA', 'empty file: no header row and no data', { file });
    if (!isBlank(fields, quoted.any)) break;
  }
  const header = fields.map((f) => f.trim());
  const C = header.length;

  let labelIdx = -1;
  if (labelName !== null) {
    for (let c = 0; c < C; c++) {
      if (header[c] !== labelName) continue;
      if (labelIdx >= 0) {
        throw new EdgennError('DATA', `the label column "${labelName}" appears twice in the header (columns ${labelIdx + 1} and ${c + 1})`, { file });
      }
      labelIdx = c;
    }
    if (labelIdx < 0 && opts.requireLabel === true) {
      throw new EdgennError('DATA', `no label column "${labelName}" in the header`,
        { file, expected: `a column named "${labelName}"`, actual: `columns ${header.map((h) => JSON.stringify(h)).join(', ')}` });
    }
  }
  const F = labelIdx >= 0 ? C - 1 : C;
  if (F === 0) {
    throw new EdgennError('DATA', `no feature columns: the header has only the label column "${labelName ?? ''}"`, { file });
  }
  const columns = header.filter((_, c) => c !== labelIdx);
  const colName = (c: number): string => `column ${c + 1} ("${header[c]}")`;

  // A rough row estimate sizes the buffers once for typical files.
  const estRows = Math.max(16, Math.ceil((text.length - s.pos) / Math.max(1, C * 4)));
  const feats = new FloatGrow(Math.min(estRows * F, 1 << 24));
  const labels = labelIdx >= 0 ? new FloatGrow(Math.min(estRows, 1 << 22)) : null;

  let N = 0;
  for (;;) {
    const line = readRecord(s, fields, quoted);
    if (line === 0) break;
    if (isBlank(fields, quoted.any)) continue;
    if (fields.length !== C) {
      throw new EdgennError('DATA', `line ${line}: ragged row`,
        { file, expected: `${C} fields (as in the header)`, actual: `${fields.length}` });
    }
    for (let c = 0; c < C; c++) {
      const raw = fields[c]!;
      const kind = readCell(raw.trim());
      if (kind === CellKind.NonFinite && !allowNonFinite) {
        throw new EdgennError('DATA',
          `line ${line}, ${colName(c)}: non-finite value ${JSON.stringify(raw.trim())} (NaN/Inf are refused; allowNonFinite accepts them)`, { file });
      }
      if (kind === CellKind.Empty) {
        throw new EdgennError('DATA', `line ${line}, ${colName(c)}: empty cell (write NaN and allow non-finite values if a missing value is meant)`, { file });
      }
      if (kind === CellKind.NotNumber) {
        throw new EdgennError('DATA', `line ${line}, ${colName(c)}: not a number: ${JSON.stringify(raw)}`, { file });
      }
      if (c === labelIdx) labels!.push(cellValue);
      else feats.push(cellValue);
    }
    N++;
  }
  if (N === 0) throw new EdgennError('DATA', `the file has a header (line ${headerLine}) but no data rows`, { file });

  const table: CsvTable = labels !== null
    ? { dims: [N, F], data: feats.done(), columns, labels: labels.done(), labelColumn: labelName! }
    : { dims: [N, F], data: feats.done(), columns };
  return table;
}
