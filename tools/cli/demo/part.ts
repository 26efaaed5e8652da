// The demo's building block: `edgenn demo` runs a list of parts, each a small self-contained
// story (a model, its data, its training) that prints to a DemoOut and says whether it learned
// what it should. New parts (e.g. MQTT telemetry of a training run) are added to the list in
// commands/demo.ts; hooks let a part's training steps be observed without changing the part.
import type { EpochRecord, StepRecord } from '../../../runtime/train/types.js';
import type { ArenaReport } from '../../../runtime/graph/plan.js';

export interface DemoOut {
  line(s?: string): void;
  readonly isTTY: boolean;
  /** observers of the training parts (telemetry, tests) */
  readonly onStep?: (part: string, r: Readonly<StepRecord>) => void;
  readonly onEpoch?: (part: string, r: Readonly<EpochRecord>) => void;
}

export interface DemoPartResult {
  /** the part learned what it demonstrates (or, for XOR on a perceptron, failed as it should) */
  readonly ok: boolean;
  readonly summary: string;
}

export interface DemoPart {
  /** short id for `edgenn demo --only NAME` */
  readonly name: string;
  readonly title: string;
  run(out: DemoOut): DemoPartResult | Promise<DemoPartResult>;
}

export function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** One line of an arena report: bytes by category and the analytic lower bound. */
export function arenaLine(r: ArenaReport): string {
  const parts = [`params ${kib(r.paramsBytes)}`, `grads ${kib(r.gradsBytes)}`];
  if (r.optimizerStateBytes > 0) parts.push(`optimizer state ${kib(r.optimizerStateBytes)}`);
  if (r.constantsBytes > 0) parts.push(`constants ${kib(r.constantsBytes)}`);
  parts.push(`pinned I/O ${kib(r.pinnedBytes)}`, `activations ${kib(r.activationsBytes)}`);
  const over = r.lowerBoundBytes > 0 ? ((r.totalBytes / r.lowerBoundBytes - 1) * 100).toFixed(1) : '0';
  return `arena ${kib(r.totalBytes)} = ${parts.join(' + ')}; lower bound ${kib(r.lowerBoundBytes)} (plan is ${over}% above it)`;
}
