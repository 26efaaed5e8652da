// Op rules for linear quantization: QuantizeLinear, DequantizeLinear (per tensor, per axis,
// blocked), DynamicQuantizeLinear, QLinearMatMul, MatMulInteger. int8/uint8 tensors live in i32
// cells; the kernels are the reference ones of runtime/ops/quantize.ts. Not differentiable
// (quantization-aware training is the fake-quant of runtime/quant/).
import { OnnxDataType, dataTypeName } from '../model.js';
import { type Lowering, type Sym } from '../import-context.js';
import type { ValueId } from '../../../runtime/graph/builder.js';
import { rule, type OpRule } from './rule.js';

const Q_ELEMS: ReadonlySet<number> = new Set([OnnxDataType.INT8, OnnxDataType.UINT8]);
const range = (e: number): [number, number] =>
  (e === OnnxDataType.INT8 ? [-128, 127] : e === OnnxDataType.INT32 ? [-2147483648, 2147483647] : [0, 255]);

function floatScale(ctx: Lowering, i: number): Sym {
  const s = ctx.input(i);
  ctx.needElem(s, (e) => e === OnnxDataType.FLOAT, 'quantization scale', ctx.inputName(i));
  return s;
}

function zeroPoint(ctx: Lowering, i: number, elem: OnnxDataType, scale: Sym): ValueId {
  const z = ctx.maybe(i);
  if (z !== undefined) return ctx.value(z);
  const dims = ctx.dims(scale);
  return ctx.value(ctx.makeConst(elem, dims, new Int32Array(dims.reduce((p, q) => p * q, 1))));
}

function axisOf(ctx: Lowering, x: Sym): number {
  const r = ctx.dims(x).length;
  const a = ctx.attrInt('axis', 1);
  return a < 0 ? a + r : a;
}

function quantize(ctx: Lowering): void {
  const x = ctx.input(0);
  ctx.needElem(x, (e) => e === OnnxDataType.FLOAT, 'QuantizeLinear input', ctx.inputName(0));
  const s = floatScale(ctx, 1);
  const z = ctx.maybe(2);
  const outElem = (z?.elem ?? (ctx.attrInt('output_dtype', 0) || OnnxDataType.UINT8)) as OnnxDataType;
  if (!Q_ELEMS.has(outElem)) throw ctx.error('UNSUPPORTED', `QuantizeLinear to ${dataTypeName(outElem)}`, { expected: 'int8 or uint8' });
  const [qmin, qmax] = range(outElem);
  const id = ctx.b.quantize(ctx.value(x), ctx.value(s), zeroPoint(ctx, 2, outElem, s),
    { axis: axisOf(ctx, x), blockSize: ctx.attrInt('block_size', 0), qmin, qmax }, ctx.label);
  ctx.outValue(0, id, outElem);
}

function dequantize(ctx: Lowering): void {
  const x = ctx.input(0);
  ctx.needElem(x, (e) => Q_ELEMS.has(e) || e === OnnxDataType.INT32, 'DequantizeLinear input', ctx.inputName(0));
  const s = floatScale(ctx, 1);
  const [qmin, qmax] = range(x.elem);
  const id = ctx.b.dequantize(ctx.value(x), ctx.value(s), zeroPoint(ctx, 2, x.elem, s),
    { axis: axisOf(ctx, x), blockSize: ctx.attrInt('block_size', 0), qmin, qmax }, ctx.label);
  ctx.outValue(0, id, OnnxDataType.FLOAT);
}

function dynQuantize(ctx: Lowering): void {
  const x = ctx.input(0);
  ctx.needElem(x, (e) => e === OnnxDataType.FLOAT, 'DynamicQuantizeLinear input', ctx.inputName(0));
  const [y, s, z] = ctx.b.dynQuantize(ctx.value(x), ctx.label);
  ctx.outValue(0, y, OnnxDataType.UINT8);
  ctx.outValue(1, s, OnnxDataType.FLOAT);
  ctx.outValue(2, z, OnnxDataType.UINT8);
}

function qlinearMatMul(ctx: Lowering): void {
  const a = ctx.input(0), b = ctx.input(3);
  for (const [q, i] of [[a, 0], [b, 3]] as const) ctx.needElem(q, (e) => Q_ELEMS.has(e), 'QLinearMatMul operand', ctx.inputName(i));
  const yz = ctx.input(7);
  ctx.needElem(yz, (e) => Q_ELEMS.has(e), 'QLinearMatMul output zero point', ctx.inputName(7));
  const [qmin, qmax] = range(yz.elem);
  const id = ctx.b.qmatmul(ctx.value(a), ctx.value(b), ctx.value(ctx.input(2)), ctx.value(ctx.input(5)), {
    aScale: ctx.value(floatScale(ctx, 1)), bScale: ctx.value(floatScale(ctx, 4)), yScale: ctx.value(floatScale(ctx, 6)), yZero: ctx.value(yz),
  }, qmin, qmax, ctx.label);
  ctx.outValue(0, id, yz.elem);
}

function matMulInteger(ctx: Lowering): void {
  const a = ctx.input(0), b = ctx.input(1);
  for (const [q, i] of [[a, 0], [b, 1]] as const) ctx.needElem(q, (e) => Q_ELEMS.has(e), 'MatMulInteger operand', ctx.inputName(i));
  const zero = (i: number, elem: OnnxDataType): ValueId => {
    const z = ctx.maybe(i);
    return ctx.value(z ?? ctx.makeConst(elem, [], [0]));
  };
  const id = ctx.b.qmatmul(ctx.value(a), ctx.value(b), zero(2, a.elem), zero(3, b.elem), null, -2147483648, 2147483647, ctx.label);
  ctx.outValue(0, id, OnnxDataType.INT32);
}

export const QUANT_RULES: readonly OpRule[] = [
  // not folded: a QDQ model keeps its quantized weights and the (de)quantization in the graph,
  // so it exports back as the same QDQ model
  rule('QuantizeLinear', quantize, { since: 10, noFold: true }),
  rule('DequantizeLinear', dequantize, { since: 10, noFold: true }),
  rule('DynamicQuantizeLinear', dynQuantize, { since: 11 }),
  rule('QLinearMatMul', qlinearMatMul, { since: 10 }),
  rule('MatMulInteger', matMulInteger, { since: 10 }),
];
