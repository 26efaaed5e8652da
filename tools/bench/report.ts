// Text rendering of a BenchReport: a header (machine, Node, date, implementations) and one table
// per workload. Pure string building; the CLI prints it. The JSON form is the report object itself.
import type { BenchReport, ResultRow, Workload } from './run.js';
import { WORKLOADS } from './run.js';

const TITLES: Record<Workload, string> = {
  'infer-b1': 'infer-b1: batch-1 inference latency, µs per call',
  'infer-b64': 'infer-b64: batch-64 inference, µs per batch and samples/s at the median',
  'train-sgd-b32': 'train-sgd-b32: training step (forward, cross-entropy, backward, SGD), batch 32, µs per step',
  'train-adam-b32': 'train-adam-b32: training step (forward, cross-entropy, backward, Adam), batch 32, µs per step',
  'gemm': 'gemm: dense kernels, µs per call and GFLOP/s at the median (fwd y = x·wᵀ: 2BIO flops; bwd dx = dy·w and dw = dyᵀ·x: 4BIO)',
};

/** 3 significant figures for small values, whole numbers from 1000 up. */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

function table(headers: readonly string[], rows: readonly (readonly string[])[], leftCols: number): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function rowCells(r: ResultRow, w: Workload): string[] {
  const cells = [r.model, r.impl, fmtNum(r.median_us), fmtNum(r.p99_us), fmtNum(r.iqr_us), String(r.gc_events),
                 String(r.calls_per_sample)];
  if (w === 'infer-b64') cells.push(fmtNum(r.samples_per_s ?? NaN));
  if (w === 'gemm') cells.push(fmtNum(r.gflops ?? NaN));
  cells.push(r.ratio_edgenn === null ? '-' : r.ratio_edgenn.toFixed(2));
  return cells;
}

export function formatReport(rep: BenchReport): string {
  const out: string[] = [];
  out.push(`edgenn benchmark (${rep.mode}) ${rep.date}`);
  out.push(`machine: ${rep.cpu}, ${rep.cores} cores, ${rep.platform} ${rep.arch}; Node ${rep.node}; ` +
           `load average ${rep.loadavg_start.join(' ')} at start, ${rep.loadavg_end.join(' ')} at end`);
  const busy = Math.max(rep.loadavg_start[0] ?? 0, rep.loadavg_end[0] ?? 0);
  if (busy > rep.cores) {
    out.push(`WARNING: the 1-minute load average (${busy}) exceeded the ${rep.cores} cores: other processes competed ` +
             'for the CPU; long calls suffer more than short ones, so ratios are skewed. Rerun on a quiet machine.');
  }
  for (const i of rep.impls) out.push(`  ${i.impl.padEnd(9)} ${i.version} — ${i.config}`);
  out.push('columns: median and p99 of per-call times over all samples (a sample = k calls timed together, ÷ k);');
  out.push('  IQR = q75 - q25; GC = collections that started inside the timed loops (a full GC is forced before each loop' +
           (rep.gc_forced_between_loops ? ')' : ': NOT available in this run)') + ';');
  out.push('  edgenn÷impl = edgenn median / impl median: < 1 means edgenn takes less time.');
  for (const w of WORKLOADS) {
    const rows = rep.results.filter((r) => r.workload === w);
    const na = rep.not_applicable.filter((n) => n.workload === w);
    if (rows.length === 0 && na.length === 0) continue;
    const headers = ['model', 'impl', 'median', 'p99', 'IQR', 'GC', 'k'];
    if (w === 'infer-b64') headers.push('samples/s');
    if (w === 'gemm') headers.push('GFLOP/s');
    headers.push('edgenn÷impl');
    const cells = rows.map((r) => rowCells(r, w));
    for (const n of na) {
      const c = [n.model, n.impl, 'n/a', '', '', '', ''];
      if (w === 'infer-b64' || w === 'gemm') c.push('');
      c.push(n.reason);
      cells.push(c);
    }
    // keep rows of one model together, in the order they were measured
    const order = [...new Set(rows.map((r) => r.model).concat(na.map((n) => n.model)))];
    cells.sort((a, b) => order.indexOf(a[0]!) - order.indexOf(b[0]!));
    out.push('', TITLES[w], table(headers, cells, 2));
  }
  out.push('', `total ${rep.duration_s.toFixed(0)} s`);
  return out.join('\n');
}
