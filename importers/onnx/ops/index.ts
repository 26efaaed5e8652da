// The op rule table: every (opType, domain, opset range) edgenn imports, and the lookup the
// importer uses. A string-keyed table is fine here: it is consulted once per node at import, never
// while a model runs.
import { ELEMENTWISE_RULES } from './elementwise.js';
import { SHAPE_RULES } from './shape.js';
import { NN_RULES } from './nn.js';
import { REDUCE_RULES } from './reduce.js';
import { LOSS_RULES } from './loss.js';
import { QUANT_RULES } from './quant.js';
import type { OpRule } from './rule.js';

export const OP_RULES: readonly OpRule[] = [
  ...ELEMENTWISE_RULES, ...SHAPE_RULES, ...NN_RULES, ...REDUCE_RULES, ...LOSS_RULES, ...QUANT_RULES,
];

const byKey = new Map<string, OpRule[]>();
for (const r of OP_RULES) {
  const k = `${r.domain}:${r.opType}`;
  byKey.set(k, [...(byKey.get(k) ?? []), r]);
}

/** The rule for an op at a domain opset version, or undefined. */
export function findRule(opType: string, domain: string, opset: number): OpRule | undefined {
  return byKey.get(`${domain}:${opType}`)?.find((r) => opset >= r.since && opset <= r.until);
}

/** Op types (default domain) with at least one rule. */
export function supportedOpTypes(): string[] {
  return [...new Set(OP_RULES.filter((r) => r.domain === 'ai.onnx').map((r) => r.opType))].sort();
}

export { MAX_OPSET, type OpRule } from './rule.js';
