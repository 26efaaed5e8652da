// Command-line options of `npm run bench -- [options]`: parsed into a plain record, or an error
// message naming the bad argument (the CLI prints it and exits 2). No side effects.
import { IMPL_NAMES, type ImplName } from './impl.js';
import { GEMM_SHAPES, MODELS, gemmLabel } from './models.js';
import { BUDGETS, WORKLOADS, selectCases, type Budget, type Filter, type Workload } from './run.js';

export const HELP = `npm run bench -- [options]

Measures edgenn against onnxruntime-node, onnxruntime-web (wasm, 1 thread), TensorFlow.js cpu and
TensorFlow.js wasm, in one process, on the MLPs T 16-32-32-4 (tanh), S 784-128-10 (relu) and
M 784-256-128-10 (relu), plus the dense GEMM kernels. Every implementation is first checked to give
the same outputs and losses (within 1e-4); a mismatch stops the run (exit 1) before any timing.

Options:
  --json FILE        also write the results as JSON to FILE
  --quick            short run (about a minute): fewer samples and rounds
  --filter TERMS     comma-separated terms; a case runs when it matches one term of each category
                     given. Categories: workloads (${WORKLOADS.join(', ')}),
                     models (${MODELS.map((m) => m.name).join(', ')}, ${GEMM_SHAPES.map(gemmLabel).join(', ')}),
                     impls (${IMPL_NAMES.join(', ')}).
                     e.g. --filter infer-b1,T,S   or   --filter gemm,edgenn,tfjs-wasm
  --seed N           seed of weights and data (default 1)
  --int8             instead: int8 vs float32 (edgenn float32 / int8, onnxruntime-node float32 /
                     QDQ int8 of the same int8 model): batch-1 and batch-64 latency, weight and
                     arena bytes (tools/bench/int8.ts; with --quick: fewer samples)
  --device           instead: the device package (bundles it into a temp folder first): bundle
                     bytes, start-up to the first inference native vs emulated arm64 Node 18 (and
                     the ratio), the agent's RSS with a 784-256-128-10 model when serving starts,
                     idle and under load, offline and with a broker, on this node and Debian's
                     Node 18 (tools/pi/measure.ts; Linux; the Node 18 legs need root, the emulated
                     start-up qemu-user-static; --quick: 3 start-up runs instead of 5; --json FILE
                     writes that report)
  --help             this text

Progress goes to stderr, the table to stdout. Full run: about 4-8 minutes on a 2-core machine.`;

export interface BenchArgs {
  readonly help: boolean;
  readonly json: string | null;
  readonly mode: 'full' | 'quick';
  readonly budget: Budget;
  readonly filter: Filter;
  readonly seed: number;
  /** run the int8 vs float32 comparison (int8.ts) instead of the main benchmark */
  readonly int8: boolean;
  /** measure the device package (tools/pi/measure.ts) instead of the main benchmark */
  readonly device: boolean;
}

export type ParseResult = { readonly ok: true; readonly args: BenchArgs } | { readonly ok: false; readonly error: string };

export function parseFilter(spec: string): Filter | string {
  const workloads: Workload[] = [], models: string[] = [], impls: ImplName[] = [];
  const modelNames = [...MODELS.map((m) => m.name as string), ...GEMM_SHAPES.map(gemmLabel)];
  for (const raw of spec.split(',')) {
    const t = raw.trim();
    if (t === '') continue;
    if ((WORKLOADS as readonly string[]).includes(t)) workloads.push(t as Workload);
    else if (modelNames.includes(t)) models.push(t);
    else if ((IMPL_NAMES as readonly string[]).includes(t)) impls.push(t as ImplName);
    else {
      return `--filter: unknown term '${t}' (workloads: ${WORKLOADS.join(', ')}; models: ${modelNames.join(', ')}; impls: ${IMPL_NAMES.join(', ')})`;
    }
  }
  return {
    workloads: workloads.length > 0 ? workloads : null,
    models: models.length > 0 ? models : null,
    impls: impls.length > 0 ? impls : null,
  };
}

export function parseArgs(argv: readonly string[]): ParseResult {
  let help = false, json: string | null = null, quick = false, seed = 1, int8 = false, device = false;
  let filter: Filter = { workloads: null, models: null, impls: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | null => {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) return null;
      i++;
      return v;
    };
    switch (a) {
      case '--help': case '-h': help = true; break;
      case '--quick': quick = true; break;
      case '--int8': int8 = true; break;
      case '--device': device = true; break;
      case '--json': {
        const v = value();
        if (v === null) return { ok: false, error: '--json needs a file name' };
        json = v;
        break;
      }
      case '--filter': {
        const v = value();
        if (v === null) return { ok: false, error: '--filter needs a comma-separated list of terms' };
        const f = parseFilter(v);
        if (typeof f === 'string') return { ok: false, error: f };
        if (selectCases(f).length === 0) {
          return { ok: false, error: `--filter ${v} selects no case (a GEMM shape is a model term: e.g. gemm,32x784x128)` };
        }
        filter = f;
        break;
      }
      case '--seed': {
        const v = value();
        const n = v === null ? NaN : Number(v);
        if (!Number.isSafeInteger(n) || n < 0) return { ok: false, error: `--seed needs an integer >= 0, got ${v ?? 'nothing'}` };
        seed = n;
        break;
      }
      default:
        return { ok: false, error: `unknown argument '${a}' (see --help)` };
    }
  }
  if (int8 && device) return { ok: false, error: '--int8 and --device are two separate runs: give one' };
  const mode = quick ? 'quick' : 'full';
  return { ok: true, args: { help, json, mode, budget: BUDGETS[mode], filter, seed, int8, device } };
}
