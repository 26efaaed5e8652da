// Shared pieces of the ONNX fuzz tests (decoder and importer): a seeded generator and the
// field-level mutation of a decoded ModelProto (well-formed protobuf, absurd contents).
import { Rng } from '../../runtime/random.js';
import { bigIntToInt64 } from '../../importers/onnx/proto.js';

/** mulberry32 (runtime/random.ts), as a plain () => number in [0, 1) */
export function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

type Slot = [Record<string, unknown>, string];

/** Every own field of a decoded message tree that a mutation may replace. */
export function collectSlots(o: unknown, out: Slot[] = []): Slot[] {
  if (o === null || typeof o !== 'object' || o instanceof Uint8Array) return out;
  const rec = o as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    const v = rec[key];
    if (v === null || v === undefined) continue;
    const isLong = typeof v === 'object' && 'low' in (v as object) && 'high' in (v as object);
    if (typeof v === 'number' || typeof v === 'string' || v instanceof Uint8Array || isLong) out.push([rec, key]);
    else if (Array.isArray(v)) {
      out.push([rec, key]);
      v.forEach((x, i) => {
        if (x !== null && typeof x === 'object' && !('low' in x) && !(x instanceof Uint8Array)) collectSlots(x, out);
        else if (x !== null && typeof x === 'object' && 'low' in x) out.push([v as unknown as Record<string, unknown>, String(i)]);
      });
    } else collectSlots(v, out);
  }
  return out;
}

/** Replaces 1-3 random fields of msg in place: numbers (pickNumber draws one), strings, bytes,
 *  arrays and int64s from the given pools. */
export function mutateFields(msg: unknown, rnd: () => number, pickNumber: (int: (n: number) => number) => number,
                             names: readonly string[], longs: readonly bigint[]): void {
  const int = (n: number): number => Math.floor(rnd() * n);
  const slots = collectSlots(msg);
  for (let k = 1 + int(3); k > 0 && slots.length > 0; k--) {
    const [obj, key] = slots[int(slots.length)]!;
    const v = obj[key];
    if (typeof v === 'number') obj[key] = pickNumber(int);
    else if (typeof v === 'string') obj[key] = names[int(names.length)];
    else if (v instanceof Uint8Array) obj[key] = v.subarray(0, int(v.length + 1));
    else if (Array.isArray(v)) { if (rnd() < 0.5) v.pop(); else if (v.length > 0) v.push(v[0]); }
    else obj[key] = bigIntToInt64(longs[int(longs.length)]!);
  }
}
