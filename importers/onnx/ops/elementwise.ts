// Op rules for elementwise ONNX ops: activations and float math (Relu, Sigmoid, Tanh, Softplus,
// LeakyRelu, Sign, Elu, Selu, HardSigmoid, HardSwish, Gelu, Softsign, Exp, Log, Neg, Abs, Sqrt,
// Clip), broadcasting arithmetic (Add, Sub, Mul, Div, Pow), the variadic Max, Min, Sum, the
// comparisons (Equal, Greater, Less) and Where. Float types run in f32 cells, integer types in
// i32 cells wrapped to their width (see import-context.ts).
import { OnnxDataType } from '../model.js';
import { isFloatElem, wrapOfElem, type Lowering, type Sym } from '../import-context.js';
import { UnaryFn } from '../../../runtime/ops/unary.js';
import { BinaryFn } from '../../../runtime/ops/binary.js';
import { rule, type OpRule } from './rule.js';

const INT_ELEMS: ReadonlySet<number> = new Set([OnnxDataType.INT64, OnnxDataType.INT32, OnnxDataType.INT8, OnnxDataType.UINT8]);

function floatIn(ctx: Lowering, i = 0): Sym {
  const x = ctx.input(i);
  ctx.needElem(x, isFloatElem, `${ctx.node!.opType} input`, ctx.inputName(i));
  return x;
}

function math(fn: number, p: (ctx: Lowering) => [number, number] = () => [0, 0]) {
  return (ctx: Lowering): void => {
    const x = floatIn(ctx);
    const [p0, p1] = p(ctx);
    ctx.outValue(0, ctx.b.math(fn, ctx.value(x), p0, p1, ctx.label), x.elem);
  };
}

function act(make: (ctx: Lowering, x: number) => number) {
  return (ctx: Lowering): void => {
    const x = floatIn(ctx);
    ctx.outValue(0, make(ctx, ctx.value(x)), x.elem);
  };
}

/** two operands of one type -> float or integer fn (wrapped to the type) */
function arith(ctx: Lowering, floatFn: number, intFn: number, a: Sym, b: Sym, outElem?: OnnxDataType): Sym {
  if (a.elem !== b.elem) {
    throw ctx.error('UNSUPPORTED', `operands of different types (${a.elem} and ${b.elem})`);
  }
  if (isFloatElem(a.elem)) {
    const id = ctx.b.binary(floatFn, ctx.value(a), ctx.value(b), ctx.label);
    return { kind: 'value', id, elem: outElem ?? a.elem };
  }
  ctx.needElem(a, (e) => INT_ELEMS.has(e) || (e === OnnxDataType.BOOL && (intFn === BinaryFn.IEqual)), `${ctx.node!.opType} operand`);
  const id = ctx.b.binary(intFn, ctx.value(a), ctx.value(b), ctx.label, wrapOfElem(a.elem));
  return { kind: 'value', id, elem: outElem ?? a.elem };
}

function binaryRule(floatFn: number, intFn: number, compare = false) {
  return (ctx: Lowering): void => {
    ctx.out(0, arith(ctx, floatFn, intFn, ctx.input(0), ctx.input(1), compare ? OnnxDataType.BOOL : undefined));
  };
}

/** Max / Min / Sum over 1..n inputs, as a left fold of binary ops */
function variadic(floatFn: number, intFn: number) {
  return (ctx: Lowering): void => {
    const n = ctx.node!.inputs.length;
    if (n === 0) throw ctx.error('GRAPH', 'variadic op without inputs');
    let acc = ctx.input(0);
    for (let i = 1; i < n; i++) acc = arith(ctx, floatFn, intFn, acc, ctx.input(i));
    if (n === 1) ctx.needElem(acc, (e) => isFloatElem(e) || INT_ELEMS.has(e), `${ctx.node!.opType} input`);
    ctx.out(0, acc);
  };
}

function pow(ctx: Lowering): void {
  const x = ctx.input(0), y = ctx.input(1);
  const xf = isFloatElem(x.elem), yf = isFloatElem(y.elem);
  for (const s of [x, y]) ctx.needElem(s, (e) => isFloatElem(e) || INT_ELEMS.has(e), 'Pow operand');
  if (xf && yf) { ctx.out(0, arith(ctx, BinaryFn.Pow, BinaryFn.IPow, x, y.elem === x.elem ? y : { ...y, elem: x.elem })); return; }
  if (!xf && !yf) {
    const id = ctx.b.binary(BinaryFn.IPow, ctx.value(x), ctx.value(y), ctx.label, wrapOfElem(x.elem));
    ctx.outValue(0, id, x.elem);
    return;
  }
  if (xf) {
    // float base, integer exponent: the exponent as float (exact for |e| < 2^24)
    const e = ctx.b.cast(ctx.value(y), 'f32', 0, `${ctx.label}:exp`);
    ctx.outValue(0, ctx.b.binary(BinaryFn.Pow, ctx.value(x), e, ctx.label), x.elem);
    return;
  }
  // integer base, float exponent: computed in float, truncated back to the base's type (numpy)
  const bf = ctx.b.cast(ctx.value(x), 'f32', 0, `${ctx.label}:base`);
  const p = ctx.b.binary(BinaryFn.Pow, bf, ctx.value(y), `${ctx.label}:pow`);
  ctx.outValue(0, ctx.b.cast(p, 'i32', wrapOfElem(x.elem), ctx.label), x.elem);
}

function clip(ctx: Lowering): void {
  const x = ctx.input(0);
  ctx.needElem(x, (e) => isFloatElem(e) || INT_ELEMS.has(e), 'Clip input');
  const float = isFloatElem(x.elem);
  let lo: Sym | number | undefined, hi: Sym | number | undefined;
  if (ctx.opset < 11) {
    lo = ctx.attrFloat('min', -Infinity);
    hi = ctx.attrFloat('max', Infinity);
  } else {
    lo = ctx.maybe(1);
    hi = ctx.maybe(2);
  }
  const known = (s: Sym | number | undefined, dflt: number): number | null => {
    if (s === undefined) return dflt;
    if (typeof s === 'number') return s;
    if (s.kind === 'const' && s.data.length === 1) return s.data[0]!;
    return null;
  };
  const l = known(lo, float ? -Infinity : -2147483648), h = known(hi, float ? Infinity : 2147483647);
  if (float && l !== null && h !== null) {
    ctx.outValue(0, ctx.b.math(UnaryFn.Clip, ctx.value(x), l, h, ctx.label), x.elem);
    return;
  }
  // runtime bounds (or integers): min(max(x, lo), hi) with broadcasting scalars
  const bound = (s: Sym | number | undefined): Sym | undefined =>
    s === undefined ? undefined : typeof s === 'number' ? ctx.makeConst(x.elem, [], [s]) : s;
  let acc: Sym = x;
  const lb = bound(lo), hb = bound(hi);
  if (lb !== undefined) acc = arith(ctx, BinaryFn.Max, BinaryFn.IMax, acc, lb);
  if (hb !== undefined) acc = arith(ctx, BinaryFn.Min, BinaryFn.IMin, acc, hb);
  if (acc === x) acc = { kind: 'value', id: ctx.value(x), elem: x.elem };
  ctx.out(0, acc);
}

function where(ctx: Lowering): void {
  const c = ctx.input(0), x = ctx.input(1), y = ctx.input(2);
  if (c.elem !== OnnxDataType.BOOL) throw ctx.error('DATA', 'Where condition must be bool', { tensor: ctx.inputName(0) });
  if (x.elem !== y.elem) throw ctx.error('DATA', 'Where branches of different types');
  ctx.needElem(x, (e) => isFloatElem(e) || INT_ELEMS.has(e) || e === OnnxDataType.BOOL, 'Where value');
  ctx.outValue(0, ctx.b.where(ctx.value(c), ctx.value(x), ctx.value(y), ctx.label), x.elem);
}

function gelu(ctx: Lowering): void {
  const approx = ctx.attrString('approximate', 'none');
  if (approx !== 'none' && approx !== 'tanh') throw ctx.error('UNSUPPORTED', `Gelu approximate='${approx}'`);
  math(approx === 'tanh' ? UnaryFn.GeluTanh : UnaryFn.Gelu)(ctx);
}

export const ELEMENTWISE_RULES: readonly OpRule[] = [
  rule('Relu', act((ctx, x) => ctx.b.relu(x, ctx.label))),
  rule('Sigmoid', act((ctx, x) => ctx.b.sigmoid(x, ctx.label))),
  rule('Tanh', act((ctx, x) => ctx.b.tanh(x, ctx.label))),
  // NOTE: PyTorch's threshold 20 is exact in float32: log1p(exp(x)) - x < 2.1e-9 for x > 20
  rule('Softplus', act((ctx, x) => ctx.b.softplus(x, 1, 20, ctx.label))),
  rule('LeakyRelu', act((ctx, x) => ctx.b.leakyRelu(x, ctx.attrFloat('alpha', 0.01), ctx.label))),
  rule('Sign', act((ctx, x) => ctx.b.sign(x, ctx.label))),
  rule('Elu', math(UnaryFn.Elu, (ctx) => [ctx.attrFloat('alpha', 1), 0])),
  rule('Selu', math(UnaryFn.Selu, (ctx) => [ctx.attrFloat('alpha', 1.67326319217681884765625), ctx.attrFloat('gamma', 1.05070102214813232421875)])),
  rule('HardSigmoid', math(UnaryFn.HardSigmoid, (ctx) => [ctx.attrFloat('alpha', 0.2), ctx.attrFloat('beta', 0.5)])),
  rule('HardSwish', math(UnaryFn.HardSwish), { since: 14 }),
  rule('Gelu', gelu, { since: 20 }),
  rule('Softsign', math(UnaryFn.Softsign)),
  rule('Exp', math(UnaryFn.Exp)),
  rule('Log', math(UnaryFn.Log)),
  rule('Neg', math(UnaryFn.Neg)),
  rule('Abs', math(UnaryFn.Abs)),
  rule('Sqrt', math(UnaryFn.Sqrt)),
  rule('Reciprocal', math(UnaryFn.Reciprocal)),
  rule('Erf', math(UnaryFn.Erf), { since: 9 }),
  rule('Clip', clip),
  rule('Add', binaryRule(BinaryFn.Add, BinaryFn.IAdd), { since: 7 }),
  rule('Sub', binaryRule(BinaryFn.Sub, BinaryFn.ISub), { since: 7 }),
  rule('Mul', binaryRule(BinaryFn.Mul, BinaryFn.IMul), { since: 7 }),
  rule('Div', binaryRule(BinaryFn.Div, BinaryFn.IDiv), { since: 7 }),
  rule('Pow', pow, { since: 7 }),
  rule('Max', variadic(BinaryFn.Max, BinaryFn.IMax), { since: 8 }),
  rule('Min', variadic(BinaryFn.Min, BinaryFn.IMin), { since: 8 }),
  rule('Sum', variadic(BinaryFn.Add, BinaryFn.IAdd), { since: 8 }),
  rule('Equal', binaryRule(BinaryFn.Equal, BinaryFn.IEqual, true), { since: 7 }),
  rule('Greater', binaryRule(BinaryFn.Greater, BinaryFn.IGreater, true), { since: 7 }),
  rule('Less', binaryRule(BinaryFn.Less, BinaryFn.ILess, true), { since: 7 }),
  rule('Where', where, { since: 9 }),
];
