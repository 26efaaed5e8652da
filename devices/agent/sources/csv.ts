// A CSV file processed once as a batch (`{"kind": "csv", "path": ..., "output": ..., "samples"}`):
// a header row, then one sample per row (features in column order, flattened row-major for a
// multi-dim input; a `label` column is optional). With samples=false every row is inferred in
// batches of maxBatch and the outputs are written as CSV (`row,y0,...,y{O-1}`, atomically) to
// `output` (default: `<file without .csv>.predictions.csv`); with samples=true every row must
// have a label and goes to the fine-tuning buffer instead.
//
// It is not a streaming reader: the file is read whole (importers/data parseCsv), which is what
// a batch of a few thousand rows on a board needs; a growing file is the tail source's job.

import * as fs from 'node:fs';
import { EdgennError } from '../../../runtime/errors.js';
import { writeFileAtomicSync } from '../../../runtime/train/atomic-write.js';
import { parseCsv } from '../../../importers/data/index.js';
import { f32Shortest } from '../../../importers/json-model.js';
import type { InferenceEngine } from '../inference.js';
import type { ServingPort } from '../protocol.js';

export interface CsvBatchOptions {
  readonly file: string;
  readonly output?: string;
  readonly samples: boolean;
  readonly engine: InferenceEngine;
  readonly port: ServingPort;
}

export interface CsvBatchResult {
  readonly rows: number;
  readonly mode: 'infer' | 'samples';
  readonly output: string | null;
  /** Rows refused (samples mode: a bad label). */
  readonly rejected: number;
}

export function defaultCsvOutput(file: string): string {
  return file.replace(/\.csv$/i, '') + '.predictions.csv';
}

function cell(v: number): string {
  return Number.isFinite(v) ? String(f32Shortest(v)) : String(v);
}

export function runCsvBatch(o: CsvBatchOptions): CsvBatchResult {
  let text: string;
  try {
    text = fs.readFileSync(o.file, 'utf8');
  } catch (e) {
    throw new EdgennError('IO', `cannot read CSV source: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: o.file });
  }
  const t = parseCsv(text, { file: o.file, labelColumn: 'label', requireLabel: o.samples });
  const [N, F] = t.dims;
  const e = o.engine;
  if (F !== e.inputFloats) {
    throw new EdgennError('SHAPE', 'CSV feature columns do not match the model input', { file: o.file, expected: `${e.inputFloats} feature columns`, actual: `${F}` });
  }
  if (o.samples) {
    let rejected = 0;
    const labels = t.labels!;
    for (let r = 0; r < N; r++) {
      try {
        o.port.addSample(t.data.subarray(r * F, (r + 1) * F), labels[r]!);
      } catch {
        rejected++;
      }
    }
    return { rows: N, mode: 'samples', output: null, rejected };
  }
  const O = e.outputFloats;
  const lines: string[] = [['row', ...Array.from({ length: O }, (_, i) => `y${i}`)].join(',')];
  for (let from = 0; from < N; from += e.maxBatch) {
    const b = Math.min(e.maxBatch, N - from);
    const y = e.inferBatch(t.data.subarray(from * F, (from + b) * F), b);
    for (let r = 0; r < b; r++) {
      const parts: string[] = [String(from + r)];
      for (let k = 0; k < O; k++) parts.push(cell(y[r * O + k]!));
      lines.push(parts.join(','));
    }
  }
  const out = o.output ?? defaultCsvOutput(o.file);
  writeFileAtomicSync(out, lines.join('\n') + '\n');
  return { rows: N, mode: 'infer', output: out, rejected: 0 };
}
