// De-duplication by (device, seq) (dedupe.ts), checked against an exact Set-based reference.
import { describe, expect, it } from 'vitest';
import { SeqDedupe } from '../../../devices/telemetry/dedupe.js';

describe('SeqDedupe', () => {
  it('accepts each (device, seq) once, independently per device', () => {
    const d = new SeqDedupe(64);
    expect(d.check('a', 5)).toBe('new');
    expect(d.check('a', 5)).toBe('duplicate');
    expect(d.check('b', 5)).toBe('new');
    expect(d.check('a', 3)).toBe('new');       // out of order inside the window
    expect(d.check('a', 3)).toBe('duplicate');
    expect(d.check('a', 1000)).toBe('new');    // a restart jump clears the window
    expect(d.check('a', 5)).toBe('stale');     // too far below the high-water mark to tell
    expect(d.highWater('a')).toBe(1000);
    expect(d.highWater('zz')).toBeNull();
  });

  it('agrees with a Set on a re-delivery pattern like reconnects produce', () => {
    const W = 128;
    const d = new SeqDedupe(W);
    const seen = new Set<number>();
    let s = 1, hw = 0;
    let x = 7;
    const rnd = (): number => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x / 0x7fffffff; };
    for (let step = 0; step < 20000; step++) {
      // mostly new seqs; sometimes re-send a recent run (as after a reconnect); sometimes jump
      let seq: number;
      const r = rnd();
      if (r < 0.8) seq = s++;
      else if (r < 0.98) seq = Math.max(1, s - 1 - Math.floor(rnd() * (W - 1)));
      else { s += Math.floor(rnd() * 500); seq = s++; }
      const want = seq <= hw - W ? 'stale' : seen.has(seq) ? 'duplicate' : 'new';
      expect(d.check('dev', seq)).toBe(want);
      if (want === 'new') { seen.add(seq); if (seq > hw) hw = seq; }
    }
  });
});
