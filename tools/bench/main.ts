#!/usr/bin/env node
// `npm run bench` entry point: parses options, runs the benchmark (run.ts), prints the table to
// stdout and progress to stderr, and with --json writes the report (written to a temp file, then
// renamed, so a failed run never leaves half a file). Exit codes: 0 ok, 1 the run failed (e.g. the
// correctness guard found implementations disagreeing), 2 bad arguments.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HELP, parseArgs } from './args.js';
import { formatReport } from './report.js';
import { runBench, BenchCheckError, type BenchReport } from './run.js';
import { benchInt8, formatInt8 } from './int8.js';

export function writeJsonReport(file: string, rep: BenchReport | object): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(rep, null, 2) + '\n');
  renameSync(tmp, file);
}

export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`bench: ${parsed.error}\n`);
    return 2;
  }
  const a = parsed.args;
  if (a.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (a.device) {
    const log = (line: string): void => { process.stderr.write(`bench: ${line}\n`); };
    const out = mkdtempSync(path.join(os.tmpdir(), 'edgenn-bench-device-'));
    try {
      // imported here: the other runs need neither esbuild nor the device measurement
      const { buildBundles } = await import('../bundle.js');
      const { formatDeviceReport, measureDevice } = await import('../pi/measure.js');
      log('bundling the device package (tools/bundle.ts)');
      const dist = await buildBundles({ outDir: out });
      const rep = await measureDevice({ dist: dist.outDir, runs: a.mode === 'quick' ? 3 : 5, log });
      process.stdout.write(formatDeviceReport(rep) + '\n');
      if (a.json !== null) {
        writeJsonReport(a.json, rep);
        log(`wrote ${a.json}`);
      }
      return 0;
    } catch (e) {
      log(`device measurement failed: ${(e as Error).message}`);
      return 1;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  if (a.int8) {
    process.stdout.write(formatInt8(await benchInt8(a.mode === 'quick', (line) => process.stderr.write(`bench: ${line}\n`))) + '\n');
    return 0;
  }
  try {
    const rep = await runBench({
      mode: a.mode, budget: a.budget, filter: a.filter, seed: a.seed,
      log: (line) => process.stderr.write(`bench: ${line}\n`),
    });
    process.stdout.write(formatReport(rep) + '\n');
    if (a.json !== null) {
      writeJsonReport(a.json, rep);
      process.stderr.write(`bench: wrote ${a.json}\n`);
    }
    return 0;
  } catch (e) {
    const what = e instanceof BenchCheckError ? 'correctness check failed' : 'failed';
    process.stderr.write(`bench: ${what}: ${(e as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`bench: ${String(e)}\n`);
    process.exitCode = 1;
  });
}
