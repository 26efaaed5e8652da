// Option checks shared by the optimizer and schedule builders (sgd.ts, adam.ts, schedule.ts,
// clip.ts). Builders throw EdgennError('ARG') naming the option, what was expected and what was
// given; steps and kernels never call these. Configs often come from JSON (checkpoints, CLI
// files), so types are checked at run time too, and unknown keys are rejected: a torch-style
// `weight_decay` silently ignored would train a different model.
import { EdgennError } from '../errors.js';

function show(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  try { return JSON.stringify(v); } catch { return typeof v; }
}

/** Throws when `cfg` has a key outside `allowed` (`owner` names the thing, e.g. "optimizer sgd"). */
export function checkKeys(owner: string, cfg: object, allowed: readonly string[]): void {
  for (const key of Object.keys(cfg)) {
    if (!allowed.includes(key)) {
      throw new EdgennError('ARG', `${owner}: unknown option '${key}'`, {
        expected: `one of ${allowed.join(', ')}`, actual: key,
      });
    }
  }
}

export interface NumberRule {
  readonly min?: number;          // inclusive lower bound
  readonly above?: number;        // exclusive lower bound
  readonly below?: number;        // exclusive upper bound
  readonly max?: number;          // inclusive upper bound
  readonly integer?: boolean;
}

/** A finite number inside the rule's bounds, else EdgennError('ARG') naming the option. */
export function checkNumber(owner: string, name: string, v: unknown, rule: NumberRule): number {
  const parts: string[] = [rule.integer === true ? 'a finite integer' : 'a finite number'];
  if (rule.min !== undefined) parts.push(`>= ${rule.min}`);
  if (rule.above !== undefined) parts.push(`> ${rule.above}`);
  if (rule.below !== undefined) parts.push(`< ${rule.below}`);
  if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  const ok = typeof v === 'number' && Number.isFinite(v)
    && (rule.integer !== true || Number.isInteger(v))
    && (rule.min === undefined || v >= rule.min)
    && (rule.above === undefined || v > rule.above)
    && (rule.below === undefined || v < rule.below)
    && (rule.max === undefined || v <= rule.max);
  if (!ok) {
    throw new EdgennError('ARG', `${owner}: invalid option '${name}'`, {
      expected: parts.join(' '), actual: show(v),
    });
  }
  return v as number;
}

export function checkBoolean(owner: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') {
    throw new EdgennError('ARG', `${owner}: invalid option '${name}'`, { expected: 'a boolean', actual: show(v) });
  }
  return v;
}
