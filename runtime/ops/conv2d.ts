// conv2d (ONNX Conv / nn.Conv2d): cross-correlation with zero padding, strides, dilations and
// groups; a 1-D convolution runs as H = 1, KH = 1. Dimensions: N images (b per run, or the
// leading dim of an unbatched [N, C, H, W]), C in channels, H x W input, O out channels, G
// groups (C/G input channels per group, O/G outputs), KH x KW kernel, OH x OW output.
//   x is (N, C, H, W), w is (O, C/G, KH, KW), b is (O) or -1, y is (N, O, OH, OW)
// Padding is (top, left, bottom, right). Backward accumulates into dx, dw, db (each may be -1).
// NOTE: sums are carried in doubles and rounded once on store.
import { EdgennError } from '../errors.js';

export interface Conv2dGeometry {
  readonly C: number; readonly H: number; readonly W: number;
  readonly O: number; readonly KH: number; readonly KW: number; readonly OH: number; readonly OW: number;
}

export function conv2dOut(L: number, K: number, stride: number, p0: number, p1: number, dilation: number): number {
  return Math.floor((L + p0 + p1 - dilation * (K - 1) - 1) / stride) + 1;
}

/** Shape rule: image dims [C, H, W], weight [O, C/G, KH, KW], bias [O] -> [O, OH, OW]. */
export function conv2dShape(node: string, img: readonly number[], wDims: readonly number[], bDims: readonly number[] | null,
                            strides: readonly number[], pads: readonly number[], dilations: readonly number[], group: number): number[] {
  if (img.length !== 3) {
    throw new EdgennError('SHAPE', 'conv input must be [N, C, H, W] (or [N, C, L])', { node, actual: `image dims [${img.join(', ')}]` });
  }
  const [C, H, W] = img as [number, number, number];
  if (!Number.isInteger(group) || group < 1 || C % group !== 0) {
    throw new EdgennError('SHAPE', 'conv group must divide the input channels', { node, expected: `a divisor of ${C}`, actual: String(group) });
  }
  if (wDims.length !== 4 || wDims[1] !== C / group || wDims[0]! % group !== 0) {
    throw new EdgennError('SHAPE', 'conv weight must be [O, C/group, KH, KW] with O divisible by group',
      { node, expected: `[O, ${C / group}, KH, KW]`, actual: `[${wDims.join(', ')}]` });
  }
  if (bDims !== null && (bDims.length !== 1 || bDims[0] !== wDims[0])) {
    throw new EdgennError('SHAPE', 'conv bias must be [O]', { node, expected: `[${wDims[0]}]`, actual: `[${bDims.join(', ')}]` });
  }
  for (const v of [...strides, ...dilations]) {
    if (!Number.isInteger(v) || v < 1) throw new EdgennError('ARG', 'conv strides and dilations must be integers >= 1', { node, actual: String(v) });
  }
  for (const v of pads) {
    if (!Number.isInteger(v) || v < 0) throw new EdgennError('ARG', 'conv pads must be integers >= 0', { node, actual: String(v) });
  }
  const OH = conv2dOut(H, wDims[2]!, strides[0]!, pads[0]!, pads[2]!, dilations[0]!);
  const OW = conv2dOut(W, wDims[3]!, strides[1]!, pads[1]!, pads[3]!, dilations[1]!);
  if (OH < 1 || OW < 1) {
    throw new EdgennError('SHAPE', 'conv input is smaller than the (dilated) kernel', { node, actual: `input ${H}x${W}, kernel ${wDims[2]}x${wDims[3]}` });
  }
  return [wDims[0]!, OH, OW];
}

export function conv2dForward(a: Float32Array, y: number, x: number, w: number, b: number, N: number,
                              C: number, H: number, W: number, O: number, KH: number, KW: number, OH: number, OW: number,
                              sh: number, sw: number, pt: number, pl: number, dh: number, dw: number, G: number): void {
  const Cg = C / G, Og = O / G;
  for (let n = 0; n < N; n++) {
    const xn = x + n * C * H * W, yn = y + n * O * OH * OW;
    for (let o = 0; o < O; o++) {
      const c0 = ((o / Og) | 0) * Cg;
      const wo = w + o * Cg * KH * KW;
      const bias = b >= 0 ? a[b + o]! : 0;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = 0;
          for (let c = 0; c < Cg; c++) {
            const xc = xn + (c0 + c) * H * W, wc = wo + c * KH * KW;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - pt + kh * dh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - pl + kw * dw;
                if (iw < 0 || iw >= W) continue;
                s += a[xc + ih * W + iw]! * a[wc + kh * KW + kw]!;
              }
            }
          }
          a[yn + (o * OH + oh) * OW + ow] = bias + s;
        }
      }
    }
  }
}

export function conv2dBackward(a: Float32Array, dx: number, dwt: number, db: number, dy: number, x: number, w: number, N: number,
                               C: number, H: number, W: number, O: number, KH: number, KW: number, OH: number, OW: number,
                               sh: number, sw: number, pt: number, pl: number, dh: number, dw: number, G: number): void {
  const Cg = C / G, Og = O / G;
  for (let n = 0; n < N; n++) {
    const xn = x + n * C * H * W, dxn = dx + n * C * H * W, yn = dy + n * O * OH * OW;
    for (let o = 0; o < O; o++) {
      const c0 = ((o / Og) | 0) * Cg;
      const wo = w + o * Cg * KH * KW, dwo = dwt + o * Cg * KH * KW;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const g = a[yn + (o * OH + oh) * OW + ow]!;
          if (g === 0) continue;
          if (db >= 0) a[db + o] += g;
          for (let c = 0; c < Cg; c++) {
            const xc = (c0 + c) * H * W, wc = c * KH * KW;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - pt + kh * dh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - pl + kw * dw;
                if (iw < 0 || iw >= W) continue;
                if (dwt >= 0) a[dwo + wc + kh * KW + kw] += g * a[xn + xc + ih * W + iw]!;
                if (dx >= 0) a[dxn + xc + ih * W + iw] += g * a[wo + wc + kh * KW + kw]!;
              }
            }
          }
        }
      }
    }
  }
}

/** Naive twin for one image with group 1, unit dilation: plain arrays x (C,H,W), w (O,C,KH,KW). */
export function conv2dForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null,
                                 C: number, H: number, W: number, O: number, KH: number, KW: number,
                                 stride: number, pad: number): number[] {
  const OH = Math.floor((H + 2 * pad - KH) / stride) + 1, OW = Math.floor((W + 2 * pad - KW) / stride) + 1;
  const y: number[] = [];
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < OH; i++) {
      for (let j = 0; j < OW; j++) {
        let s = bias !== null ? bias[o]! : 0;
        for (let c = 0; c < C; c++) {
          for (let u = 0; u < KH; u++) {
            for (let v = 0; v < KW; v++) {
              const r = i * stride + u - pad, q = j * stride + v - pad;
              if (r >= 0 && r < H && q >= 0 && q < W) s += x[(c * H + r) * W + q]! * w[((o * C + c) * KH + u) * KW + v]!;
            }
          }
        }
        y.push(s);
      }
    }
  }
  return y;
}
