// log_softmax over one axis, (outer, C, inner) as in softmax.ts: y = x - max - log(sum(exp(x - max))).
// Backward uses the output y: dx = g - exp(y) * sum(g). x, y, dx, dy are (outer, C, inner).
// NOTE: computing log(softmax) instead would give -Infinity for logits far below the max.
export function logSoftmaxForward(a: Float32Array, y: number, x: number,
                                  outer: number, C: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * C * inner + j;
      let m = -Infinity;
      for (let c = 0; c < C; c++) { const v = a[x + base + c * inner]!; if (v > m) m = v; }
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(a[x + base + c * inner]! - m);
      const lse = m + Math.log(s);
      for (let c = 0; c < C; c++) a[y + base + c * inner] = a[x + base + c * inner]! - lse;
    }
  }
}

export function logSoftmaxBackward(a: Float32Array, dx: number, dy: number, y: number,
                                   outer: number, C: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * C * inner + j;
      let s = 0;
      for (let c = 0; c < C; c++) s += a[dy + base + c * inner]!;
      for (let c = 0; c < C; c++) {
        const k = base + c * inner;
        a[dx + k] += a[dy + k]! - Math.exp(a[y + k]!) * s;
      }
    }
  }
}

export function logSoftmaxForwardRef(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((p, v) => p + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}
