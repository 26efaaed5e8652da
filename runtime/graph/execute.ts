// The executor: runs a list of planned instructions over the arena for a batch b (<= the
// compiled maximum). One exhaustive switch on the instruction kind; every case is a kernel call
// with numbers from the instruction, so a run allocates nothing. Instructions over unbatched
// values (bt = 0) run with a batch of 1.
import { Ik, type Instr } from './instr.js';
import type { WasmKernels } from '../wasm/kernels.js';
import { denseForward, denseBackward } from '../ops/dense.js';
import { reluForward, reluBackward } from '../ops/relu.js';
import { leakyReluForward, leakyReluBackward } from '../ops/leaky-relu.js';
import { sigmoidForward, sigmoidBackward } from '../ops/sigmoid.js';
import { tanhForward, tanhBackward } from '../ops/tanh.js';
import { softplusForward, softplusBackward } from '../ops/softplus.js';
import { stepForward } from '../ops/step.js';
import { signForward } from '../ops/sign.js';
import { softmaxForward, softmaxBackward } from '../ops/softmax.js';
import { logSoftmaxForward, logSoftmaxBackward } from '../ops/log-softmax.js';
import { conv1dForward, conv1dBackward } from '../ops/conv1d.js';
import { deadUnitsProbe, saturatedProbe } from '../ops/probe.js';
import { lossForward, lossBackward } from '../losses/dispatch.js';
import { mathForward, mathBackward } from '../ops/unary.js';
import { binaryForward, binaryBackward } from '../ops/binary.js';
import { whereForward, whereBackward } from '../ops/where.js';
import { matmulForward, matmulBackward } from '../ops/matmul.js';
import { transposeForward, transposeBackward } from '../ops/transpose.js';
import { concatForward, concatBackward } from '../ops/concat.js';
import { gatherForward, gatherBackward } from '../ops/gather.js';
import { reduceForward, reduceBackward } from '../ops/reduce.js';
import { argmaxForward } from '../ops/argmax.js';
import { castForward, copyForward, copyBackward } from '../ops/cast.js';
import { conv2dForward, conv2dBackward } from '../ops/conv2d.js';
import { nllForward, nllBackward } from '../ops/nll-loss.js';
import { quantizeForward, dequantizeForward, dynQuantizeForward, qmatmulForward } from '../ops/quantize.js';
import { fakeQuantOpForward, fakeQuantOpBackward, lsqOpForward, lsqOpBackward } from '../ops/fake-quant-op.js';
import { int8QuantizeOp, int8DequantizeOp, int8DenseOp, int8Conv1dOp } from '../ops/int8-op.js';

/**
 * @param probes run Probe instructions (training-health signals) this time
 */
export function execute(list: readonly Instr[], a: Float32Array, ia: Int32Array, batch: number, probes = false,
                        k: WasmKernels | null = null): void {
  // NOTE: `| 0` pins b to a small integer: if any caller ever passed a double-typed batch, V8's
  // feedback would turn every `b * n` below into a double, boxed on each kernel call.
  const b = batch | 0;
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    switch (s.k) {
      // k: the WebAssembly SIMD kernels over the same arena (runtime/wasm), or null for the JS ones
      case Ik.DenseF:
        if (k !== null) k.denseForward(s.y, s.x, s.w, s.b, (s.bt === 1 ? b : 1) * s.R, s.I, s.O, 0, 0);
        else denseForward(a, s.y, s.x, s.w, s.b, (s.bt === 1 ? b : 1) * s.R, s.I, s.O);
        break;
      case Ik.DenseB:
        if (k !== null) k.denseBackward(s.dx, s.dw, s.db, s.dy, s.x, s.w, (s.bt === 1 ? b : 1) * s.R, s.I, s.O);
        else denseBackward(a, s.dx, s.dw, s.db, s.dy, s.x, s.w, (s.bt === 1 ? b : 1) * s.R, s.I, s.O);
        break;
      case Ik.ReluF:
        if (k !== null) k.reluForward(s.y, s.x, (s.bt === 1 ? b : 1) * s.n);
        else reluForward(a, s.y, s.x, (s.bt === 1 ? b : 1) * s.n);
        break;
      case Ik.ReluB:
        if (k !== null) k.reluBackward(s.dx, s.dy, s.s, (s.bt === 1 ? b : 1) * s.n);
        else reluBackward(a, s.dx, s.dy, s.s, (s.bt === 1 ? b : 1) * s.n);
        break;
      case Ik.LeakyReluF: leakyReluForward(a, s.y, s.x, (s.bt === 1 ? b : 1) * s.n, s.p); break;
      case Ik.LeakyReluB: leakyReluBackward(a, s.dx, s.dy, s.s, (s.bt === 1 ? b : 1) * s.n, s.p); break;
      case Ik.SigmoidF: sigmoidForward(a, s.y, s.x, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.SigmoidB: sigmoidBackward(a, s.dx, s.dy, s.s, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.TanhF:
        if (k !== null) k.tanhForward(s.y, s.x, (s.bt === 1 ? b : 1) * s.n);
        else tanhForward(a, s.y, s.x, (s.bt === 1 ? b : 1) * s.n);
        break;
      case Ik.TanhB: tanhBackward(a, s.dx, s.dy, s.s, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.SoftplusF: softplusForward(a, s.y, s.x, (s.bt === 1 ? b : 1) * s.n, s.p); break;
      case Ik.SoftplusB: softplusBackward(a, s.dx, s.dy, s.s, (s.bt === 1 ? b : 1) * s.n, s.p); break;
      case Ik.StepF: stepForward(a, s.y, s.x, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.SignF: signForward(a, s.y, s.x, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.SoftmaxF: softmaxForward(a, s.y, s.x, (s.bt === 1 ? b : 1) * s.outer, s.C, s.inner); break;
      case Ik.SoftmaxB: softmaxBackward(a, s.dx, s.dy, s.y, (s.bt === 1 ? b : 1) * s.outer, s.C, s.inner); break;
      case Ik.LogSoftmaxF: logSoftmaxForward(a, s.y, s.x, (s.bt === 1 ? b : 1) * s.outer, s.C, s.inner); break;
      case Ik.LogSoftmaxB: logSoftmaxBackward(a, s.dx, s.dy, s.y, (s.bt === 1 ? b : 1) * s.outer, s.C, s.inner); break;
      case Ik.MathF: mathForward(a, s.fn, s.y, s.x, (s.bt === 1 ? b : 1) * s.n, s.p); break;
      case Ik.MathB: mathBackward(a, s.fn, s.dx, s.dy, s.x, (s.bt === 1 ? b : 1) * s.n, s.p); break;
      case Ik.BinaryF:
        binaryForward(a, ia, s.fn, s.wrap, s.y, s.x0, s.x1, s.bt === 1 ? b : 1, s.per, s.os0, s.os1, s.rank, s.shape, s.st0, s.st1, s.idx);
        break;
      case Ik.BinaryB:
        binaryBackward(a, s.fn, s.side, s.dx, s.dy, s.x0, s.x1, s.bt === 1 ? b : 1, s.per, s.os0, s.os1, s.rank, s.shape, s.st0, s.st1, s.idx);
        break;
      case Ik.WhereF:
        whereForward(ia, s.y, s.c, s.x0, s.x1, s.bt === 1 ? b : 1, s.per, s.osc, s.os0, s.os1, s.rank, s.shape, s.stc, s.st0, s.st1, s.idx);
        break;
      case Ik.WhereB:
        whereBackward(a, ia, s.side, s.dx, s.dy, s.c, s.bt === 1 ? b : 1, s.per, s.osc, s.osx, s.rank, s.shape, s.stc, s.stx, s.idx);
        break;
      case Ik.MatMulF:
        matmulForward(a, s.y, s.a, s.b, s.bt === 1 ? b : 1, s.osA, s.osB, s.osY, s.P, s.offA, s.offB, s.M, s.K, s.N, s.sAm, s.sAk, s.sBk, s.sBn, s.alpha);
        break;
      case Ik.MatMulB:
        matmulBackward(a, s.da, s.db, s.dy, s.a, s.b, s.bt === 1 ? b : 1, s.osA, s.osB, s.osY, s.P, s.offA, s.offB, s.M, s.K, s.N, s.sAm, s.sAk, s.sBk, s.sBn, s.alpha);
        break;
      case Ik.TransposeF: transposeForward(ia, s.y, s.x, s.bt === 1 ? b : 1, s.per, s.rank, s.shape, s.st, s.idx); break;
      case Ik.TransposeB: transposeBackward(a, s.x, s.y, s.bt === 1 ? b : 1, s.per, s.rank, s.shape, s.st, s.idx); break;
      case Ik.ConcatF: concatForward(ia, s.y, s.x, (s.bt === 1 ? b : 1) * s.rows, s.chunk, s.yRow, s.off); break;
      case Ik.ConcatB: concatBackward(a, s.x, s.y, (s.bt === 1 ? b : 1) * s.rows, s.chunk, s.yRow, s.off); break;
      case Ik.GatherF: gatherForward(ia, s.y, s.x, s.ind, (s.bt === 1 ? b : 1) * s.rows, s.xRow, s.indRow, s.nInd, s.D, s.inner); break;
      case Ik.GatherB: gatherBackward(a, ia, s.x, s.y, s.ind, (s.bt === 1 ? b : 1) * s.rows, s.xRow, s.indRow, s.nInd, s.D, s.inner); break;
      case Ik.ReduceF: reduceForward(a, s.y, s.x, s.bt === 1 ? b : 1, s.perIn, s.perOut, s.rank, s.shape, s.ost, s.idx, s.mean, s.count); break;
      case Ik.ReduceB: reduceBackward(a, s.x, s.y, s.bt === 1 ? b : 1, s.perIn, s.perOut, s.rank, s.shape, s.ost, s.idx, s.mean, s.count); break;
      case Ik.ArgMaxF: argmaxForward(a, ia, s.y, s.x, (s.bt === 1 ? b : 1) * s.outer, s.C, s.inner, s.selectLast); break;
      case Ik.CastF: castForward(a, ia, s.fromF32, s.toF32, s.wrap, s.y, s.x, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.CopyF: copyForward(ia, s.y, s.x, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.CopyB: copyBackward(a, s.x, s.y, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.Conv2dF:
        conv2dForward(a, s.y, s.x, s.w, s.b, (s.bt === 1 ? b : 1) * s.N, s.C, s.H, s.W, s.O, s.KH, s.KW, s.OH, s.OW,
          s.sh, s.sw, s.pt, s.pl, s.dilH, s.dilW, s.G);
        break;
      case Ik.Conv2dB:
        conv2dBackward(a, s.dx, s.dw, s.db, s.dy, s.x, s.w, (s.bt === 1 ? b : 1) * s.N, s.C, s.H, s.W, s.O, s.KH, s.KW, s.OH, s.OW,
          s.sh, s.sw, s.pt, s.pl, s.dilH, s.dilW, s.G);
        break;
      case Ik.NllF:
        nllForward(a, ia, s.y, s.logp, s.target, s.w, (s.bt === 1 ? b : 1) * s.N, s.C, s.D, s.reduction, s.hasIgnore, s.ignore);
        break;
      case Ik.NllB:
        nllBackward(a, ia, s.logp, s.y, s.target, s.w, (s.bt === 1 ? b : 1) * s.N, s.C, s.D, s.reduction, s.hasIgnore, s.ignore);
        break;
      case Ik.QuantizeF:
        quantizeForward(a, ia, s.y, s.x, s.s, s.zp, (s.bt === 1 ? b : 1) * s.rows, s.D, s.inner, s.mode, s.bs, s.qmin, s.qmax);
        break;
      case Ik.DequantizeF:
        dequantizeForward(a, ia, s.y, s.x, s.s, s.zp, (s.bt === 1 ? b : 1) * s.rows, s.D, s.inner, s.mode, s.bs);
        break;
      case Ik.DynQuantizeF: dynQuantizeForward(a, ia, s.y, s.s, s.zp, s.x, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.QMatMulF:
        qmatmulForward(a, ia, s.y, s.a, s.b, s.azp, s.nAzp, s.bzp, s.nBzp, s.aS, s.nAs, s.bS, s.nBs, s.yS, s.yzp,
          s.bt === 1 ? b : 1, s.osA, s.osB, s.osY, s.P, s.offA, s.offB, s.M, s.K, s.N, s.qmin, s.qmax);
        break;
      case Ik.Conv1dF:
        conv1dForward(a, s.y, s.x, s.w, s.b, b, s.C, s.L, s.O, s.K, s.T, s.stride, s.padding, s.dilation); break;
      case Ik.Conv1dB:
        conv1dBackward(a, s.dx, s.dw, s.db, s.dy, s.x, s.w, b, s.C, s.L, s.O, s.K, s.T, s.stride, s.padding, s.dilation); break;
      case Ik.Zero: a.fill(0, s.at, s.at + (s.batched ? b * s.n : s.n)); break;
      case Ik.LossF: lossForward(a, ia, s.loss, b); break;
      case Ik.LossB: lossBackward(a, ia, s.loss, b); break;
      case Ik.Probe:
        if (!probes) break;
        if (s.kind === 'dead') deadUnitsProbe(a, s.out, s.y, b, s.n);
        else saturatedProbe(a, s.out, s.y, b, s.n, s.kind === 'sat-tanh');
        break;
      case Ik.FakeQuantF:
        fakeQuantOpForward(a, ia, s.y, s.x, s.st, s.ctl, (s.bt === 1 ? b : 1) * s.outer, s.C, s.inner, s.kind, s.p,
          s.scheme, s.rule, s.mode, s.freezeAt, s.fqFrom);
        break;
      case Ik.FakeQuantB:
        fakeQuantOpBackward(a, ia, s.dx, s.dy, s.x, s.st, s.ctl, (s.bt === 1 ? b : 1) * s.outer, s.C, s.inner, s.qmin, s.qmax,
          s.mode, s.freezeAt, s.fqFrom);
        break;
      case Ik.LsqF:
        lsqOpForward(a, ia, s.y, s.x, s.sc, s.zp, s.st, s.ctl, (s.bt === 1 ? b : 1) * s.outer, s.C, s.inner, s.kind, s.p,
          s.scheme, s.rule, s.freezeAt, s.fqFrom);
        break;
      case Ik.LsqB:
        lsqOpBackward(a, ia, s.dx, s.dsc, s.dzp, s.dy, s.x, s.sc, s.zp, s.ctl, (s.bt === 1 ? b : 1) * s.outer, s.C, s.inner,
          s.qmin, s.qmax, s.perTensor, s.p, s.gf, s.freezeAt, s.fqFrom);
        break;
      case Ik.QatTick: ia[s.at]++; break;
      case Ik.Int8QuantizeF:
        // the wasm twin is bit-exact (kernels.wat quantize_int8); codes are bytes of the same memory
        if (k !== null) k.quantizeInt8(s.y, s.x, s.qp, (s.bt === 1 ? b : 1) * s.n, s.qmin, s.qmax, s.mode === 'onnx' ? 1 : 0);
        else int8QuantizeOp(a, s.v, s.signed, s.y, s.x, s.qp, (s.bt === 1 ? b : 1) * s.n, s.qmin, s.qmax, s.mode);
        break;
      case Ik.Int8DequantizeF: int8DequantizeOp(a, s.v, s.signed, s.y, s.x, s.qp, (s.bt === 1 ? b : 1) * s.n); break;
      case Ik.Int8DenseF:
        if (k !== null && s.simd) {
          // int32 sums by the SIMD kernel (input zero point folded into the bias), then the
          // fixed-point requantization in wasm too (bit-exact with int8RequantizeRows)
          k.denseInt8(s.acc, s.x, s.w, s.rq + 3 * s.O, (s.bt === 1 ? b : 1) * s.R, s.I, s.O);
          k.requantizeInt8(s.y, s.acc, s.rq, (s.bt === 1 ? b : 1) * s.R, s.O, s.yZero, s.actMin, s.actMax);
        } else {
          int8DenseOp(ia, s.v, s.ys, s.y, s.xs, s.x, s.ws, s.w, s.bias, s.rq, s.xZero, s.yZero, s.actMin, s.actMax,
            (s.bt === 1 ? b : 1) * s.R, s.I, s.O);
        }
        break;
      case Ik.Int8Conv1dF:
        int8Conv1dOp(ia, s.v, s.ys, s.y, s.xs, s.x, s.ws, s.w, s.bias, s.rq, s.xZero, s.yZero, s.actMin, s.actMax,
          s.bt === 1 ? b : 1, s.C, s.L, s.O, s.K, s.T, s.stride, s.padding, s.dilation);
        break;
      default: {
        const never: never = s;
        return never;
      }
    }
  }
}
