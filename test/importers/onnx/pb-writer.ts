// A tiny protobuf wire writer for tests: builds byte-exact messages (unknown fields, wrong wire
// types, deep nesting) that no well-behaved encoder would produce. Not used by the library.
export type Part = Uint8Array | number[];

export function varint(v: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  return out;
}

export function cat(...parts: Part[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** field `no` as a varint (wire type 0) */
export function fVarint(no: number, v: number | bigint): Uint8Array {
  return cat(varint(no * 8), varint(v));
}

/** field `no` length-delimited (wire type 2): a string, bytes or a sub-message */
export function fBytes(no: number, payload: Part | string): Uint8Array {
  const b = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return cat(varint(no * 8 + 2), varint(b.length), b);
}

/** A minimal valid ModelProto around graph parts: ir_version 8, opset ai.onnx 13. */
export function model(graphParts: Part[], extra: Part[] = []): Uint8Array {
  return cat(
    fVarint(1, 8),
    fBytes(8, cat(fBytes(1, ''), fVarint(2, 13))),
    fBytes(7, cat(...graphParts)),
    ...extra,
  );
}

/** ValueInfoProto with a float tensor type of the given shape */
export function valueInfo(name: string, dims: number[] = [1]): Uint8Array {
  const shape = cat(...dims.map((d) => fBytes(1, fVarint(1, d))));
  return cat(fBytes(1, name), fBytes(2, fBytes(1, cat(fVarint(1, 1), fBytes(2, shape)))));
}

/** NodeProto */
export function node(opType: string, inputs: string[], outputs: string[], extra: Part[] = []): Uint8Array {
  return cat(...inputs.map((i) => fBytes(1, i)), ...outputs.map((o) => fBytes(2, o)), fBytes(4, opType), ...extra);
}
