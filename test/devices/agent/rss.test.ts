// Resource bounds: a real agent in a child process (child-agent.ts, bundled with esbuild) serves
// JSON-line inferences, takes labelled samples into a 256-slot buffer (16 000 offered) and runs a
// fine-tune every 2000 inferences while reporting to a real mosquitto every 100 ms. After a
// warm-up of 2 phases, 6 phases (12 000 inferences, 6 fine-tunes) are measured: RSS and heap are
// sampled after a forced GC at each phase and must stay flat.
// Bound: RSS may rise by at most 8 MiB (measured here: +1.3 MiB over 50 000 inferences and 25
// fine-tunes, i.e. allocator/JIT noise; a leaked 100-byte string per inference alone would add
// 1.2 MiB per 12 000, an unbounded sample buffer 16 000 x 20 bytes and more); heap after GC by at
// most 2 MiB. Needs /usr/sbin/mosquitto.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { FINE_TUNE, work, type Work } from './support.js';

let mosq: Mosquitto;
let w: Work;
let bundle = '';
beforeAll(async () => {
  mosq = await startMosquitto();
  w = work('edgenn-agent-rss-');
  bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-child-agent-')), 'child-agent.cjs');
  await build({
    entryPoints: [path.join(path.dirname(new URL(import.meta.url).pathname), 'child-agent.ts')],
    bundle: true, platform: 'node', format: 'cjs', target: 'node18', outfile: bundle, logLevel: 'silent',
  });
});
afterAll(async () => {
  await mosq?.dispose();
  w?.cleanup();
  if (bundle !== '') fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
});

interface Result {
  series: Array<{ rss: number; heapUsed: number }>;
  done: number; measured: number; answered: number; fineTunes: number; accepted: number; buffered: number; dropped: number; online: boolean;
}

describe('agent resource bounds', () => {
  it('RSS stays flat over 12 000 inferences and 6 fine-tunes', async () => {
    const config = w.config({
      broker: { url: mosq.url }, reportIntervalMs: 100,
      fineTune: { ...FINE_TUNE, bufferSize: 256, minSamples: 32, epochs: 2 },
    });
    const args = { config, warmupPhases: 2, phases: 6, every: 2000, samplesPerPhase: 2000 };
    const child = spawn(process.execPath, ['--expose-gc', bundle, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => { child.kill('SIGKILL'); resolve(-1); }, 25_000);
      child.once('exit', (c) => { clearTimeout(t); resolve(c); });
    });
    expect(code, err).toBe(0);
    const r = JSON.parse(out.trim().split('\n').pop()!) as Result;
    const mib = (b: number): string => (b / 1048576).toFixed(1);
    const first = r.series[0]!, last = r.series[r.series.length - 1]!;
    const maxRss = Math.max(...r.series.map((m) => m.rss));
    // the figure for the report
    console.log(`agent RSS after warm-up ${mib(first.rss)} MiB, end ${mib(last.rss)} MiB, max ${mib(maxRss)} MiB; ` +
      `heap ${mib(first.heapUsed)} -> ${mib(last.heapUsed)} MiB; ${r.measured} inferences measured (${r.done} in all), ${r.fineTunes} fine-tunes ` +
      `(${r.accepted} accepted), samples buffered ${r.buffered}, dropped ${r.dropped}; series ${r.series.map((m) => mib(m.rss)).join(' ')}`);
    expect(r.measured).toBe(12_000);             // after a warm-up of 2 x 2000
    expect(r.answered).toBe(r.done);
    expect(r.fineTunes).toBe(8);
    expect(r.accepted).toBeGreaterThan(0);
    expect(r.buffered).toBe(256);
    expect(r.dropped).toBe(16_000 - 256);
    expect(r.online).toBe(true);
    expect(maxRss - first.rss).toBeLessThan(8 * 1048576);
    expect(last.heapUsed - first.heapUsed).toBeLessThan(2 * 1048576);
  });
});
