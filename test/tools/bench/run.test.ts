// The benchmark end to end on a tiny budget: no timing assertions (benchmarks are not tests), only
// that a run completes, that its JSON report has the documented fields and consistent values, that
// the correctness guard refuses an implementation with wrong outputs, that the peer adapters leak
// no TF.js tensors, and the CLI's argument handling.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench, loadImpl, BenchCheckError, type Budget, type BenchReport } from '../../../tools/bench/run.js';
import { parseArgs } from '../../../tools/bench/args.js';
import { main, writeJsonReport } from '../../../tools/bench/main.js';
import { IMPL_NAMES, type Impl, type ImplName } from '../../../tools/bench/impl.js';
import { makeInputs, makeLabels, makeMlp, modelSpec } from '../../../tools/bench/models.js';
import { formatReport } from '../../../tools/bench/report.js';

const TINY: Budget = {
  inferB1Samples: 20, inferB64Samples: 4, trainSamples: 4, gemmSamples: 4, rounds: 2,
  warmupMs: 1, warmupMinCalls: 2, minSampleUs: 10,
};

const quiet = () => { /* progress discarded */ };

afterEach(() => { vi.restoreAllMocks(); });

describe('bench run (tiny budget)', () => {
  it('edgenn + tfjs-cpu on model T, batch-1 inference, SGD training and one GEMM shape: JSON has the documented fields', async () => {
    const rep = await runBench({
      mode: 'tiny', budget: TINY, seed: 1, log: quiet,
      filter: { workloads: ['infer-b1', 'train-sgd-b32', 'gemm'], models: ['T', '1x784x256'], impls: ['edgenn', 'tfjs-cpu'] },
    });
    const dir = mkdtempSync(join(tmpdir(), 'edgenn-bench-'));
    try {
      const file = join(dir, 'out.json');
      writeJsonReport(file, rep);
      const j = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
      expect(typeof j.node).toBe('string');
      expect(j.node).toMatch(/^v\d+\./);
      expect(typeof j.cpu).toBe('string');
      expect(j.cores).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(j.date))).toBe(false);
      expect(j.loadavg_start).toHaveLength(3);
      expect(j.loadavg_end).toHaveLength(3);
      // 1 infer-b1 case + 1 train case + 2 GEMM cases (fwd, bwd), 2 impls each
      expect(j.results).toHaveLength(8);
      const seen = new Set<string>();
      for (const r of j.results) {
        expect(['infer-b1', 'infer-b64', 'train-sgd-b32', 'train-adam-b32', 'gemm']).toContain(r.workload);
        expect(IMPL_NAMES).toContain(r.impl);
        expect(r.workload === 'gemm' ? ['1x784x256-fwd', '1x784x256-bwd'] : ['T']).toContain(r.model);
        for (const k of ['median_us', 'p99_us', 'iqr_us', 'mad_us', 'min_us', 'mean_us'] as const) {
          expect(Number.isFinite(r[k])).toBe(true);
          expect(r[k]).toBeGreaterThanOrEqual(0);
        }
        expect(r.median_us).toBeGreaterThan(0);
        expect(r.p99_us).toBeGreaterThanOrEqual(r.median_us);
        expect(r.min_us).toBeLessThanOrEqual(r.median_us);
        expect(Number.isInteger(r.gc_events) && r.gc_events >= 0).toBe(true);
        expect(Number.isInteger(r.calls_per_sample) && r.calls_per_sample >= 1).toBe(true);
        // per round: ceil(samples / rounds) samples
        expect(r.samples).toBe(r.workload === 'infer-b1' ? 20 : 4);
        expect(r.ratio_edgenn).not.toBeNull();
        if (r.impl === 'edgenn') expect(r.ratio_edgenn).toBe(1);
        if (r.workload === 'gemm') {
          expect(r.gflops).toBeGreaterThan(0);
          expect(r.shape).toEqual([1, 784, 256]);
          expect(['fwd', 'bwd']).toContain(r.kernel);
        }
        seen.add(`${r.workload}/${r.model}/${r.impl}`);
      }
      expect(seen.size).toBe(8); // (workload, model, impl) is a key
      expect(j.not_applicable).toEqual([]);
      // the table mentions every impl and workload measured
      const text = formatReport(rep);
      for (const w of ['infer-b1', 'train-sgd-b32', 'gemm', 'edgenn', 'tfjs-cpu', 'edgenn÷impl']) expect(text).toContain(w);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a library without training is reported n/a, not timed', async () => {
    const rep = await runBench({
      mode: 'tiny', budget: TINY, seed: 1, log: quiet,
      filter: { workloads: ['train-adam-b32'], models: ['T'], impls: ['edgenn', 'ort-node'] },
    });
    expect(rep.results.map((r) => r.impl)).toEqual(['edgenn']);
    expect(rep.not_applicable).toEqual([{ workload: 'train-adam-b32', model: 'T', impl: 'ort-node', reason: 'no training API' }]);
  });

  it('the correctness guard refuses an implementation whose outputs are off by 1e-3 (relative)', async () => {
    // a fake peer: edgenn with every output scaled by 1 + 1e-3, ten times the tolerance
    const broken = async (name: ImplName): Promise<Impl> => {
      const e = await loadImpl('edgenn');
      if (name === 'edgenn') return e;
      return {
        ...e,
        name,
        async infer(def, x, B) {
          const c = await e.infer(def, x, B);
          return { ...c, async outputs() { return (await c.outputs()).map((v) => v * (1 + 1e-3) + 1e-3); } };
        },
      };
    };
    await expect(runBench({
      mode: 'tiny', budget: TINY, seed: 1, log: quiet, loadImpl: broken,
      filter: { workloads: ['infer-b1'], models: ['T'], impls: ['edgenn', 'ort-web'] },
    })).rejects.toThrow(BenchCheckError);
    // and the same fake without the error passes (the guard is not simply always failing)
    const honest = async (name: ImplName): Promise<Impl> => ({ ...(await loadImpl('edgenn')), name });
    const rep = await runBench({
      mode: 'tiny', budget: TINY, seed: 1, log: quiet, loadImpl: honest,
      filter: { workloads: ['infer-b1'], models: ['T'], impls: ['edgenn', 'ort-web'] },
    });
    expect(rep.results).toHaveLength(2);
  });

  it('the TF.js adapter leaks no tensors over inference and training calls', async () => {
    const { createTfjs, tfjsLiveTensors } = await import('../../../tools/bench/peers/tfjs.js');
    const impl = createTfjs('cpu');
    await impl.enter();
    const spec = modelSpec('T');
    const def = makeMlp(spec, 3);
    const inf = await impl.infer(def, makeInputs(spec, 1, 4), 1);
    const tr = (await impl.train(def, makeInputs(spec, 32, 5), makeLabels(4, 32, 6), 32, 'adam'))!;
    if (!inf.call.sync || !tr.call.sync) throw new Error('tfjs calls are synchronous');
    inf.call.fn();
    tr.call.fn(); // the first Adam step creates the optimizer's m and v variables
    await tr.stepLoss();
    const before = tfjsLiveTensors();
    for (let i = 0; i < 20; i++) { inf.call.fn(); tr.call.fn(); }
    await inf.outputs();
    await tr.stepLoss();
    expect(tfjsLiveTensors()).toBe(before);
    tr.dispose();
    await impl.dispose();
  });
});

describe('bench CLI arguments', () => {
  it('parses --json, --quick, --filter and --seed', () => {
    const r = parseArgs(['--quick', '--json', 'out.json', '--filter', 'infer-b1,T,gemm,32x784x128,ort-web', '--seed', '7']);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.args.mode).toBe('quick');
    expect(r.args.json).toBe('out.json');
    expect(r.args.seed).toBe(7);
    expect(r.args.filter).toEqual({ workloads: ['infer-b1', 'gemm'], models: ['T', '32x784x128'], impls: ['ort-web'] });
    const d = parseArgs([]);
    expect(d.ok && d.args.mode === 'full' && d.args.json === null && d.args.filter.impls === null).toBe(true);
    expect(d.ok && !d.args.device && !d.args.int8).toBe(true);
    const dev = parseArgs(['--device', '--quick', '--json', 'device.json']);
    expect(dev.ok && dev.args.device && dev.args.mode === 'quick' && dev.args.json === 'device.json').toBe(true);
  });

  it('refuses unknown flags, unknown filter terms and missing values', () => {
    for (const argv of [['--bogus'], ['--filter', 'X'], ['--filter', 'gemm,T'], ['--json'], ['--json', '--quick'], ['--seed', '-1'], ['--device', '--int8']]) {
      const r = parseArgs(argv);
      expect(r.ok, argv.join(' ')).toBe(false);
    }
  });

  it('main: --help exits 0 and prints the options; a bad flag exits 2 naming it', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out.push(String(s)); return true; });
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { out.push(String(s)); return true; });
    expect(await main(['--help'])).toBe(0);
    expect(out.join('')).toContain('--filter');
    out.length = 0;
    expect(await main(['--nope'])).toBe(2);
    expect(out.join('')).toContain('--nope');
  });
});
