// What an op rule is: for one (opType, domain, opset range), a function that lowers a node into
// GraphBuilder calls through the Lowering context. Rules live by family in this folder; index.ts
// holds the table and the lookup. Rules throw EdgennError (UNSUPPORTED for an attribute value or a
// type edgenn does not implement, SHAPE for contradictions) naming the node.
import type { Lowering } from '../import-context.js';

export interface OpRule {
  readonly opType: string;
  /** 'ai.onnx' for the default domain */
  readonly domain: string;
  /** inclusive range of the domain's opset versions this rule implements */
  readonly since: number;
  readonly until: number;
  /** input positions whose values must be known at import (shape, axes, ...) */
  readonly constInputs?: readonly number[];
  /** the op only moves values (a symbolic batch entry may pass through it when folding) */
  readonly movesValues?: boolean;
  /** never folded (the rule produces consts itself or must see runtime values) */
  readonly noFold?: boolean;
  readonly lower: (ctx: Lowering) => void;
}

/** Newest opset of the default domain whose semantics the rules were checked against. */
export const MAX_OPSET = 25;

export function rule(opType: string, lower: (ctx: Lowering) => void, o: Partial<Omit<OpRule, 'opType' | 'lower'>> = {}): OpRule {
  return { opType, domain: 'ai.onnx', since: 1, until: MAX_OPSET, ...o, lower };
}
