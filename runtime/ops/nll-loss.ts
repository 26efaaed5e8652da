// Negative log-likelihood as a graph op (ONNX NegativeLogLikelihoodLoss; SoftmaxCrossEntropyLoss
// is LogSoftmax + this): logp (N, C, D), target (N, D) class indices in i32 cells, optional
// class weights w (C). Per element l[n, d] = -w[t] * logp[n, t, d], 0 where t = ignoreIndex.
// reduction 'none' writes l (N, D); 'sum' writes sum(l); 'mean' writes sum(l) / sum(w[t]) over
// the elements not ignored (ONNX's weighted mean; 0/0 = NaN when every element is ignored).
// N counts the whole run (rows of the batch when batched). It is NOT the training loss of
// runtime/losses (which a compiled model applies to its output); this one is part of a graph.
// Backward into logp: dlogp[n, t, d] += -w[t] * g[n, d] / (mean ? denominator : 1).
// NOTE: a target outside [0, C) that is not ignoreIndex contributes nothing (kernels never throw).

export const NllReduction = { None: 0, Sum: 1, Mean: 2 } as const;

function denominator(a: Float32Array, ia: Int32Array, target: number, w: number,
                     N: number, C: number, D: number, hasIgnore: boolean, ignore: number): number {
  let den = 0;
  for (let i = 0; i < N * D; i++) {
    const t = ia[target + i]!;
    if ((hasIgnore && t === ignore) || t < 0 || t >= C) continue;
    den += w >= 0 ? a[w + t]! : 1;
  }
  return den;
}

export function nllForward(a: Float32Array, ia: Int32Array, y: number, logp: number, target: number, w: number,
                           N: number, C: number, D: number, reduction: number, hasIgnore: boolean, ignore: number): void {
  let sum = 0;
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const t = ia[target + n * D + d]!;
      let l = 0;
      if (!(hasIgnore && t === ignore) && t >= 0 && t < C) {
        l = -(w >= 0 ? a[w + t]! : 1) * a[logp + (n * C + t) * D + d]!;
      }
      if (reduction === NllReduction.None) a[y + n * D + d] = l;
      else sum += l;
    }
  }
  if (reduction === NllReduction.Sum) a[y] = sum;
  else if (reduction === NllReduction.Mean) a[y] = sum / denominator(a, ia, target, w, N, C, D, hasIgnore, ignore);
}

export function nllBackward(a: Float32Array, ia: Int32Array, dlogp: number, dy: number, target: number, w: number,
                            N: number, C: number, D: number, reduction: number, hasIgnore: boolean, ignore: number): void {
  const scale = reduction === NllReduction.Mean ? 1 / denominator(a, ia, target, w, N, C, D, hasIgnore, ignore) : 1;
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const t = ia[target + n * D + d]!;
      if ((hasIgnore && t === ignore) || t < 0 || t >= C) continue;
      const g = reduction === NllReduction.None ? a[dy + n * D + d]! : a[dy]! * scale;
      a[dlogp + (n * C + t) * D + d] -= (w >= 0 ? a[w + t]! : 1) * g;
    }
  }
}

/** Naive twin on plain arrays. */
export function nllForwardRef(logp: ArrayLike<number>, target: ArrayLike<number>, w: ArrayLike<number> | null,
                              N: number, C: number, D: number, reduction: 'none' | 'sum' | 'mean', ignore: number | null): number[] {
  const l: number[] = [];
  let den = 0;
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const t = target[n * D + d]!;
      if (t === ignore) { l.push(0); continue; }
      const wt = w !== null ? w[t]! : 1;
      den += wt;
      l.push(-wt * logp[(n * C + t) * D + d]!);
    }
  }
  if (reduction === 'none') return l;
  const s = l.reduce((p, q) => p + q, 0);
  return [reduction === 'sum' ? s : s / den];
}
