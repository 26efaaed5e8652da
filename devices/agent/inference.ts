// Inference for the agent: the model compiled once for `maxBatch` rows, one sample (or a batch)
// copied into its preallocated input view, run, and the latency recorded into the telemetry ring
// (a store and an add: inference never waits on telemetry). The output is the model's own output
// view, valid until the next call: callers copy or serialise it at once.
//
// It is not the fine-tuner: training uses a separate compile of the same graph (its own arena
// with gradients and optimizer state); after a successful fine-tune its parameters are copied in
// here by name (`copyParamsFrom`), which is the only way weights flow between the two.
//
// Dimensions: B = maxBatch, I = floats per input sample, O = floats per output sample.

import { performance } from 'node:perf_hooks';
import { EdgennError } from '../../runtime/errors.js';
import type { Graph } from '../../runtime/graph/graph.js';
import { compile, type Model } from '../../runtime/model.js';
import type { MetricRing } from '../telemetry/metric-ring.js';

export class InferenceEngine {
  readonly model: Model;
  readonly maxBatch: number;
  readonly inputFloats: number;   // I
  readonly outputFloats: number;  // O
  private readonly input: Float32Array;   // (B, I) the model's input view
  private readonly output: Float32Array;  // (B, O) the model's output view
  private readonly ring: MetricRing;
  /** Inferences since start (never reset; the ring's counters are reset per report interval). */
  count = 0;
  errors = 0;
  /** Inferences whose output held NaN or ±Inf. */
  nonFinite = 0;
  /** Latency of the last inference, µs. */
  lastUs = 0;

  constructor(graph: Graph, maxBatch: number, ring: MetricRing) {
    this.model = compile(graph, { maxBatch });
    this.maxBatch = maxBatch;
    this.inputFloats = this.model.plan.inputs[0]!.floats;
    this.outputFloats = this.model.plan.outputs[0]!.floats;
    this.input = this.model.inputView(0);
    this.output = this.model.outputView(0);
    this.ring = ring;
  }

  /** Runs b rows already validated in x (b*I values); returns the output view (first b*O valid). */
  private runRows(x: ArrayLike<number>, b: number): Float32Array {
    const n = b * this.inputFloats;
    for (let i = 0; i < n; i++) {
      const v = x[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        this.errors++;
        this.ring.recordError();
        throw new EdgennError('DATA', `x[${i}] is not a finite number`, { tensor: 'x', actual: String(v) });
      }
      this.input[i] = v;
    }
    const t0 = performance.now();
    this.model.forward(b);
    const us = (performance.now() - t0) * 1000;
    this.lastUs = us;
    this.count += b;
    // NOTE: one latency sample per request (not per row): the percentiles are those a caller sees.
    for (let r = 0; r < b; r++) this.ring.recordInference(us);
    const m = b * this.outputFloats;
    for (let i = 0; i < m; i++) {
      if (!Number.isFinite(this.output[i]!)) { this.nonFinite++; break; }
    }
    return this.output;
  }

  /** One sample of I values → output view (first O values valid until the next call). */
  infer(x: ArrayLike<number>): Float32Array {
    if (x.length !== this.inputFloats) {
      this.errors++;
      this.ring.recordError();
      throw new EdgennError('DATA', 'x has the wrong number of values', { tensor: 'x', expected: `${this.inputFloats}`, actual: `${x.length}` });
    }
    return this.runRows(x, 1);
  }

  /** b rows (b <= maxBatch) flattened row-major → output view (first b*O values valid). */
  inferBatch(x: ArrayLike<number>, b: number): Float32Array {
    if (!Number.isInteger(b) || b < 1 || b > this.maxBatch || x.length !== b * this.inputFloats) {
      this.errors++;
      this.ring.recordError();
      throw new EdgennError('DATA', 'batch does not hold whole samples', { tensor: 'x', expected: `b*${this.inputFloats} values, 1 <= b <= ${this.maxBatch}`, actual: `${x.length} values, b = ${b}` });
    }
    return this.runRows(x, b);
  }

  /** Copies every parameter of `src` (a compile of the same graph) into this model, by name. */
  copyParamsFrom(src: Model): void {
    for (const name of this.model.paramNames()) this.model.param(name).set(src.param(name));
  }

  get arenaBytes(): number {
    return this.model.report.totalBytes;
  }
}
