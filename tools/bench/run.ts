// The benchmark run: loads the selected implementations, and for every selected case (workload ×
// model or GEMM shape) prepares each implementation, checks that all give the same results as a
// float64 reference (the correctness guard; a mismatch throws BenchCheckError before anything is
// timed), measures them interleaved (harness.ts) and summarises (stats.ts). Returns the report
// that report.ts prints and main.ts writes as JSON. It is NOT the CLI (main.ts) and prints only
// progress, through the `log` callback.
//
// Dimensions: B batch, I in features, O out features, C classes.
import os from 'node:os';
import {
  GEMM_SHAPES, MODELS, classes, gemmFlops, gemmLabel, makeGemmData, makeInputs, makeLabels, makeMlp,
  refCrossEntropy, refForward, refGemm, type GemmKernel, type GemmShape, type MlpSpec,
} from './models.js';
import { IMPL_NAMES, type Impl, type ImplName, type OptimizerChoice } from './impl.js';
import { measureInterleaved, type Contender, type MeasureOptions, type Measured } from './harness.js';
import { GcCounter } from './gc.js';
import { summarize } from './stats.js';

export type Workload = 'infer-b1' | 'infer-b64' | 'train-sgd-b32' | 'train-adam-b32' | 'gemm';
export const WORKLOADS: readonly Workload[] = ['infer-b1', 'infer-b64', 'train-sgd-b32', 'train-adam-b32', 'gemm'];

/** How long each kind of case is measured. */
export interface Budget {
  readonly inferB1Samples: number;
  readonly inferB64Samples: number;
  readonly trainSamples: number;
  readonly gemmSamples: number;
  readonly rounds: number;
  readonly warmupMs: number;
  readonly warmupMinCalls: number;
  readonly minSampleUs: number;
}

export const BUDGETS: Readonly<Record<'full' | 'quick', Budget>> = {
  // full: >= 2 000 batch-1 samples (each of k >= 1 calls), 10 interleaved rounds; ~6 minutes on
  // a 2-core machine, most of it in TF.js-cpu's training steps
  full: { inferB1Samples: 4000, inferB64Samples: 400, trainSamples: 200, gemmSamples: 200, rounds: 10,
          warmupMs: 300, warmupMinCalls: 5, minSampleUs: 10 },
  // quick: under a minute in all on a 2-core machine
  quick: { inferB1Samples: 600, inferB64Samples: 60, trainSamples: 20, gemmSamples: 40, rounds: 4,
           warmupMs: 60, warmupMinCalls: 3, minSampleUs: 10 },
};

/** A selection: a case runs when, for each category with terms, it matches one of them. */
export interface Filter {
  readonly workloads: readonly Workload[] | null;
  /** 'T' | 'S' | 'M' or a GEMM shape label such as '32x784x128' */
  readonly models: readonly string[] | null;
  readonly impls: readonly ImplName[] | null;
}

export const NO_FILTER: Filter = { workloads: null, models: null, impls: null };

export interface BenchOptions {
  readonly mode: string;
  readonly budget: Budget;
  readonly filter: Filter;
  readonly seed: number;
  /** progress lines (stderr in the CLI) */
  readonly log: (line: string) => void;
  /** how an implementation is loaded (default: the adapters in this folder); a seam for tests */
  readonly loadImpl?: (name: ImplName) => Promise<Impl>;
}

export interface ResultRow {
  readonly workload: Workload;
  /** 'T' | 'S' | 'M', or for gemm '<B>x<I>x<O>-fwd' / '-bwd' */
  readonly model: string;
  readonly impl: ImplName;
  readonly median_us: number;
  readonly p99_us: number;
  readonly iqr_us: number;
  readonly mad_us: number;
  readonly min_us: number;
  readonly mean_us: number;
  readonly samples: number;
  readonly calls_per_sample: number;
  readonly gc_events: number;
  /** edgenn's median ÷ this impl's median (time; < 1 means edgenn is faster); null without edgenn */
  readonly ratio_edgenn: number | null;
  /** infer-b64: B / median */
  readonly samples_per_s?: number;
  /** gemm: flops / median */
  readonly gflops?: number;
  readonly kernel?: GemmKernel;
  readonly shape?: readonly [number, number, number];
  readonly batch: number;
}

export interface NotApplicable {
  readonly workload: Workload;
  readonly model: string;
  readonly impl: ImplName;
  readonly reason: string;
}

export interface BenchReport {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly platform: string;
  readonly arch: string;
  /** when the run started (ISO 8601) */
  readonly date: string;
  /** os.loadavg() (1, 5, 15 min) at the start and at the end: > cores means others competed for the CPU */
  readonly loadavg_start: readonly number[];
  readonly loadavg_end: readonly number[];
  readonly mode: string;
  readonly budget: Budget;
  readonly gc_forced_between_loops: boolean;
  readonly impls: readonly { readonly impl: ImplName; readonly version: string; readonly config: string }[];
  readonly results: readonly ResultRow[];
  readonly not_applicable: readonly NotApplicable[];
  readonly duration_s: number;
}

/** Thrown when implementations disagree: the benchmark refuses to time wrong code. */
export class BenchCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchCheckError';
  }
}

/** Results must match the float64 reference within this; see checkClose. */
export const CHECK_TOL = 1e-4;

/**
 * |a - ref| <= CHECK_TOL * max(1, |ref|) everywhere. Why 1e-4: every value here is O(1) and is a
 * float32 sum of <= 784 products, whose rounding error is ~1e-6; a wrong layout, activation or
 * transpose is off by far more than 1e-4.
 */
function checkClose(what: string, got: Float32Array, ref: Float64Array): string | null {
  if (got.length !== ref.length) return `${what}: ${got.length} values, expected ${ref.length}`;
  let worst = 0, at = -1;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i]! - ref[i]!) / Math.max(1, Math.abs(ref[i]!));
    if (!(e <= worst)) { worst = e; at = i; }
  }
  if (worst > CHECK_TOL || Number.isNaN(worst)) {
    return `${what}: max error ${worst.toExponential(2)} at index ${at} (got ${got[at]}, reference ${ref[at]}), tolerance ${CHECK_TOL}`;
  }
  return null;
}

export async function loadImpl(name: ImplName): Promise<Impl> {
  try {
    switch (name) {
      case 'edgenn': return (await import('./edgenn-impl.js')).createEdgenn('auto');
      case 'edgenn-js': return (await import('./edgenn-impl.js')).createEdgenn('js');
      case 'ort-node': return (await import('./peers/ort-node.js')).createOrtNode();
      case 'ort-web': return (await import('./peers/ort-web.js')).createOrtWeb();
      case 'tfjs-cpu': return (await import('./peers/tfjs.js')).createTfjs('cpu');
      case 'tfjs-wasm': return (await import('./peers/tfjs.js')).createTfjs('wasm');
    }
  } catch (e) {
    throw new Error(`cannot load ${name}: ${(e as Error).message} (use --filter to leave it out)`);
  }
}

interface CaseDef {
  readonly workload: Workload;
  readonly model: string;
  readonly spec?: MlpSpec;
  readonly gemm?: { readonly shape: GemmShape; readonly kernel: GemmKernel };
}

export function selectCases(filter: Filter): CaseDef[] {
  const cases: CaseDef[] = [];
  const wants = (w: Workload) => filter.workloads === null || filter.workloads.includes(w);
  const wantsModel = (m: string) => filter.models === null || filter.models.includes(m);
  for (const w of WORKLOADS) {
    if (!wants(w)) continue;
    if (w === 'gemm') {
      for (const shape of GEMM_SHAPES) {
        if (!wantsModel(gemmLabel(shape))) continue;
        for (const kernel of ['fwd', 'bwd'] as const) cases.push({ workload: w, model: `${gemmLabel(shape)}-${kernel}`, gemm: { shape, kernel } });
      }
    } else {
      for (const spec of MODELS) if (wantsModel(spec.name)) cases.push({ workload: w, model: spec.name, spec });
    }
  }
  return cases;
}

function batchOf(w: Workload): number {
  return w === 'infer-b1' ? 1 : w === 'infer-b64' ? 64 : 32;
}

interface Prepared {
  readonly contenders: Contender[];
  readonly na: NotApplicable[];
  readonly dispose: () => void;
}

/** Prepares every impl for one case and runs the correctness guard (throws BenchCheckError). */
async function prepareAndCheck(c: CaseDef, impls: readonly Impl[], seed: number): Promise<Prepared> {
  const contenders: Contender[] = [];
  const na: NotApplicable[] = [];
  const disposers: (() => void)[] = [];
  const errors: string[] = [];
  if (c.gemm !== undefined) {
    const data = makeGemmData(c.gemm.shape, seed);
    const ref = refGemm(data, c.gemm.kernel);
    for (const impl of impls) {
      const g = await impl.gemm(data, c.gemm.kernel);
      if (g === null) { na.push({ workload: c.workload, model: c.model, impl: impl.name, reason: 'kernel not expressible' }); continue; }
      disposers.push(() => g.dispose());
      const outs = await g.outputs();
      outs.forEach((o, i) => {
        const e = checkClose(`${impl.name} ${c.model} output ${i}`, o, ref[i]!);
        if (e !== null) errors.push(e);
      });
      contenders.push({ impl, call: g.call });
    }
  } else {
    const spec = c.spec!;
    const def = makeMlp(spec, seed);
    const B = batchOf(c.workload);
    const x = makeInputs(spec, B, seed + 1);
    if (c.workload === 'infer-b1' || c.workload === 'infer-b64') {
      const ref = refForward(def, x, B);
      for (const impl of impls) {
        const ic = await impl.infer(def, x, B);
        disposers.push(() => ic.dispose());
        const e = checkClose(`${impl.name} ${c.workload} ${c.model} outputs`, await ic.outputs(), ref);
        if (e !== null) errors.push(e);
        contenders.push({ impl, call: ic.call });
      }
    } else {
      const labels = makeLabels(classes(spec), B, seed + 2);
      const opt: OptimizerChoice = c.workload === 'train-sgd-b32' ? 'sgd' : 'adam';
      const refLoss = refCrossEntropy(refForward(def, x, B), labels, B, classes(spec));
      // step 1's loss against the float64 reference; steps 2 and 3 (after updates) against the
      // first impl's, which checks that the optimizers update alike
      const STEPS = 3;
      let first: { name: ImplName; losses: number[] } | null = null;
      for (const impl of impls) {
        const tc = await impl.train(def, x, labels, B, opt);
        if (tc === null) { na.push({ workload: c.workload, model: c.model, impl: impl.name, reason: 'no training API' }); continue; }
        disposers.push(() => tc.dispose());
        const losses: number[] = [];
        for (let s = 0; s < STEPS; s++) losses.push(await tc.stepLoss());
        if (!(Math.abs(losses[0]! - refLoss) <= CHECK_TOL)) {
          errors.push(`${impl.name} ${c.workload} ${c.model}: first-step loss ${losses[0]} vs reference ${refLoss} (tolerance ${CHECK_TOL})`);
        }
        if (first === null) first = { name: impl.name, losses };
        else {
          for (let s = 1; s < STEPS; s++) {
            if (!(Math.abs(losses[s]! - first.losses[s]!) <= CHECK_TOL)) {
              errors.push(`${impl.name} ${c.workload} ${c.model}: loss at step ${s + 1} ${losses[s]} vs ${first.name}'s ${first.losses[s]} (tolerance ${CHECK_TOL})`);
            }
          }
        }
        contenders.push({ impl, call: tc.call });
      }
    }
  }
  const dispose = () => { for (const d of disposers) d(); };
  if (errors.length > 0) {
    dispose();
    throw new BenchCheckError(`implementations disagree, nothing was timed:\n  ${errors.join('\n  ')}`);
  }
  return { contenders, na, dispose };
}

function samplesFor(w: Workload, b: Budget): number {
  switch (w) {
    case 'infer-b1': return b.inferB1Samples;
    case 'infer-b64': return b.inferB64Samples;
    case 'train-sgd-b32':
    case 'train-adam-b32': return b.trainSamples;
    case 'gemm': return b.gemmSamples;
  }
}

function toRows(c: CaseDef, measured: readonly Measured[]): ResultRow[] {
  const sums = measured.map((m) => summarize(m.perCallUs));
  const e = measured.findIndex((m) => m.impl === 'edgenn');
  const edgennMedian = e >= 0 ? sums[e]!.median : null;
  const B = c.gemm !== undefined ? c.gemm.shape.B : batchOf(c.workload);
  return measured.map((m, i) => {
    const s = sums[i]!;
    const row: ResultRow = {
      workload: c.workload,
      model: c.model,
      impl: m.impl,
      median_us: s.median,
      p99_us: s.p99,
      iqr_us: s.iqr,
      mad_us: s.mad,
      min_us: s.min,
      mean_us: s.mean,
      samples: s.n,
      calls_per_sample: m.callsPerSample,
      gc_events: m.gcEvents,
      ratio_edgenn: edgennMedian === null ? null : edgennMedian / s.median,
      batch: B,
    };
    if (c.workload === 'infer-b64') return { ...row, samples_per_s: (B * 1e6) / s.median };
    if (c.gemm !== undefined) {
      const { shape, kernel } = c.gemm;
      return { ...row, kernel, shape: [shape.B, shape.I, shape.O], gflops: gemmFlops(shape, kernel) / (s.median * 1e3) };
    }
    return row;
  });
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const t0 = Date.now();
  const date = new Date(t0).toISOString();
  const loadStart = os.loadavg();
  const names = IMPL_NAMES.filter((n) => o.filter.impls === null || o.filter.impls.includes(n));
  const cases = selectCases(o.filter);
  if (names.length === 0 || cases.length === 0) throw new Error('the filter selects nothing to run');
  const impls: Impl[] = [];
  for (const n of names) {
    o.log(`loading ${n}`);
    impls.push(await (o.loadImpl ?? loadImpl)(n));
  }
  const gc = new GcCounter();
  const results: ResultRow[] = [];
  const notApplicable: NotApplicable[] = [];
  try {
    for (let ci = 0; ci < cases.length; ci++) {
      const c = cases[ci]!;
      const started = Date.now();
      o.log(`[${ci + 1}/${cases.length}] ${c.workload} ${c.model}: checking`);
      const p = await prepareAndCheck(c, impls, o.seed);
      notApplicable.push(...p.na);
      try {
        const mo: MeasureOptions = {
          samples: samplesFor(c.workload, o.budget), rounds: o.budget.rounds, warmupMs: o.budget.warmupMs,
          warmupMinCalls: o.budget.warmupMinCalls, minSampleUs: o.budget.minSampleUs,
        };
        if (p.contenders.length > 0) {
          const measured = await measureInterleaved(p.contenders, mo, gc);
          results.push(...toRows(c, measured));
          const e = measured.find((m) => m.impl === 'edgenn');
          const med = e !== undefined ? summarize(e.perCallUs).median : NaN;
          o.log(`[${ci + 1}/${cases.length}] ${c.workload} ${c.model}: ${p.contenders.length} impls timed in ` +
                `${((Date.now() - started) / 1000).toFixed(1)} s${e !== undefined ? ` (edgenn median ${med.toFixed(1)} µs)` : ''}`);
        }
      } finally {
        p.dispose();
      }
    }
  } finally {
    gc.stop();
    for (const impl of impls) await impl.dispose();
  }
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    platform: os.platform(),
    arch: os.arch(),
    date,
    loadavg_start: loadStart.map(round2),
    loadavg_end: os.loadavg().map(round2),
    mode: o.mode,
    budget: o.budget,
    gc_forced_between_loops: gc.canForce,
    impls: impls.map((i) => ({ impl: i.name, version: i.version, config: i.config })),
    results,
    not_applicable: notApplicable,
    duration_s: (Date.now() - t0) / 1000,
  };
}

