// Validation of loaded data before it reaches a model: finite values, class-index labels.
//
// What it is: two checks the CLI and the device agent run on a LoadedData; each throws
// EdgennError 'DATA' naming the file and the first offending element and value, so a user can
// find it in the file. What it is not: no cleaning or imputation; nothing is modified.
import { EdgennError } from '../../runtime/errors.js';

/** "[i][j]" of a C-order flat index. */
export function formatIndex(flat: number, dims: readonly number[]): string {
  if (dims.length === 0) return '[]';
  let s = '';
  let r = flat;
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k]!;
    s = `[${d > 0 ? r % d : 0}]` + s;
    r = d > 0 ? Math.floor(r / d) : 0;
  }
  return s;
}

/** Throw 'DATA' at the first NaN or ±Inf in data (shape dims, C order); 'SHAPE' if dims do not match. */
export function checkFinite(data: Float32Array, dims: readonly number[], file: string): void {
  let count = 1;
  for (const d of dims) count *= d;
  if (count !== data.length) {
    throw new EdgennError('SHAPE', `data length does not match dims [${dims.join(', ')}]`,
      { file, expected: `${count} elements`, actual: `${data.length}` });
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) { // NaN and ±Inf are exactly the values where v - v is not 0
      throw new EdgennError('DATA', `non-finite value ${v} at element ${formatIndex(i, dims)} (flat index ${i})`, { file });
    }
  }
}

/**
 * Throw 'DATA' unless every label is an integer in [0, numClasses) or equals ignoreIndex (the
 * cross-entropy convention, e.g. -100). Rows are 0-based indices into labels [N].
 */
export function checkClassLabels(labels: Float32Array, numClasses: number, file: string, ignoreIndex?: number): void {
  if (!Number.isSafeInteger(numClasses) || numClasses < 1) {
    throw new EdgennError('ARG', 'checkClassLabels: numClasses must be a positive integer', { file, actual: String(numClasses) });
  }
  for (let n = 0; n < labels.length; n++) {
    const v = labels[n]!;
    if (ignoreIndex !== undefined && v === ignoreIndex) continue;
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new EdgennError('DATA', `label at row ${n} (0-based) is ${v}`,
        { file, expected: `an integer class index in [0, ${numClasses})${ignoreIndex !== undefined ? ` or the ignore index ${ignoreIndex}` : ''}`, actual: String(v) });
    }
  }
}
