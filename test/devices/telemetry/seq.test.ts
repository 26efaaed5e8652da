// Persistent sequence numbers (seq.ts): strictly increasing across reopen and across a "crash"
// (a process that never closes: the counter has no close, the reservation is the durability).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeqCounter } from '../../../devices/telemetry/seq.js';

let dir = '';
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-seq-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

describe('SeqCounter', () => {
  it('never reuses a seq across restarts, skipping at most one block', () => {
    const file = path.join(dir, 'seq.json');
    const seen: number[] = [];
    for (let run = 0; run < 5; run++) {
      const c = SeqCounter.open(file, 7);
      const before = seen.length > 0 ? seen[seen.length - 1]! : 0;
      const n = 3 + run * 5; // sometimes crosses a block boundary, sometimes not
      for (let i = 0; i < n; i++) seen.push(c.next());
      const first = seen[seen.length - n]!;
      expect(first).toBeGreaterThan(before);
      expect(first - before).toBeLessThanOrEqual(7 + 1);
    }
    expect(seen[0]).toBe(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
  });

  it('refuses a damaged high-water file instead of restarting at 1', () => {
    const file = path.join(dir, 'seq.json');
    fs.writeFileSync(file, '{"v":1,"reserved":"x"}');
    expect(() => SeqCounter.open(file)).toThrow(/malformed/);
    fs.writeFileSync(file, '');
    expect(() => SeqCounter.open(file)).toThrow(/malformed/);
  });
});
