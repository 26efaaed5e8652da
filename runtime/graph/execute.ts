// The executor: runs a list of planned instructions over the arena for a batch b (<= the
// compiled maximum). One exhaustive switch on the instruction kind; every case is a kernel call
// with numbers from the instruction, so a run allocates nothing.
import { Ik, type Instr } from './instr.js';
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

/**
 * @param probes run Probe instructions (training-health signals) this time
 */
export function execute(list: readonly Instr[], a: Float32Array, ia: Int32Array, b: number, probes = false): void {
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    switch (s.k) {
      case Ik.DenseF: denseForward(a, s.y, s.x, s.w, s.b, b, s.I, s.O); break;
      case Ik.DenseB: denseBackward(a, s.dx, s.dw, s.db, s.dy, s.x, s.w, b, s.I, s.O); break;
      case Ik.ReluF: reluForward(a, s.y, s.x, b * s.n); break;
      case Ik.ReluB: reluBackward(a, s.dx, s.dy, s.s, b * s.n); break;
      case Ik.LeakyReluF: leakyReluForward(a, s.y, s.x, b * s.n, s.p0); break;
      case Ik.LeakyReluB: leakyReluBackward(a, s.dx, s.dy, s.s, b * s.n, s.p0); break;
      case Ik.SigmoidF: sigmoidForward(a, s.y, s.x, b * s.n); break;
      case Ik.SigmoidB: sigmoidBackward(a, s.dx, s.dy, s.s, b * s.n); break;
      case Ik.TanhF: tanhForward(a, s.y, s.x, b * s.n); break;
      case Ik.TanhB: tanhBackward(a, s.dx, s.dy, s.s, b * s.n); break;
      case Ik.SoftplusF: softplusForward(a, s.y, s.x, b * s.n, s.p0, s.p1); break;
      case Ik.SoftplusB: softplusBackward(a, s.dx, s.dy, s.s, b * s.n, s.p0, s.p1); break;
      case Ik.StepF: stepForward(a, s.y, s.x, b * s.n); break;
      case Ik.SignF: signForward(a, s.y, s.x, b * s.n); break;
      case Ik.SoftmaxF: softmaxForward(a, s.y, s.x, b * s.outer, s.C, s.inner); break;
      case Ik.SoftmaxB: softmaxBackward(a, s.dx, s.dy, s.y, b * s.outer, s.C, s.inner); break;
      case Ik.LogSoftmaxF: logSoftmaxForward(a, s.y, s.x, b * s.outer, s.C, s.inner); break;
      case Ik.LogSoftmaxB: logSoftmaxBackward(a, s.dx, s.dy, s.y, b * s.outer, s.C, s.inner); break;
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
      default: {
        const never: never = s;
        return never;
      }
    }
  }
}
