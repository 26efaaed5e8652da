// Child process for the resource test (rss.test.ts): runs a real agent (startAgent, telemetry to
// the broker given) and drives it itself — JSON-line inferences through the same line protocol as
// stdin, labelled samples that overflow the bounded buffer, and a fine-tune every `every`
// inferences — printing process.memoryUsage() after a forced GC at each phase as one JSON line.
// Bundled by esbuild (rss.test.ts), not a test. Run with --expose-gc.
//
// argv[2]: JSON {config, warmupPhases, phases, every, samplesPerPhase}

import { startAgent } from '../../../devices/agent/agent.js';
import { loadAgentConfig } from '../../../devices/agent/config.js';
import { serveLine } from '../../../devices/agent/protocol.js';

interface Args { config: string; warmupPhases: number; phases: number; every: number; samplesPerPhase: number }
const a = JSON.parse(process.argv[2] ?? '{}') as Args;
const gc = (globalThis as { gc?: () => void }).gc;

function mem(): { rss: number; heapUsed: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

async function main(): Promise<void> {
  const agent = await startAgent(loadAgentConfig(a.config));
  const lines: string[] = [];
  const samples: Array<{ x: number[]; y: number }> = [];
  for (let i = 0; i < 60; i++) {
    const c = i % 3;
    const x = [0, 0, 0, 0].map((_, k) => (k === c ? 2 : 0) + Math.sin(i * 7 + k) * 0.3);
    lines.push(JSON.stringify({ id: i, x }));
    samples.push({ x, y: c });
  }
  let done = 0, answered = 0, fineTunes = 0, accepted = 0, s = 0;
  const phase = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const r = serveLine(agent.port, lines[done % lines.length]!);
      if (r !== null && r.includes('"y"')) answered++;
      done++;
      if (done % 500 === 0) await new Promise((r2) => setImmediate(r2)); // let timers (telemetry) run
    }
    for (let i = 0; i < a.samplesPerPhase; i++, s++) agent.port.addSample(samples[s % samples.length]!.x, samples[s % samples.length]!.y);
    const out = await agent.fineTune('command');
    fineTunes++;
    if (out.accepted) accepted++;
  };
  for (let i = 0; i < a.warmupPhases; i++) await phase(a.every);   // JIT, heap sizing, first fine-tunes
  const series = [mem()];
  const measuredFrom = done;
  for (let i = 0; i < a.phases; i++) {
    await phase(a.every);
    series.push(mem());
  }
  const st = agent.status();
  await agent.stop();
  process.stdout.write(JSON.stringify({
    series, done, measured: done - measuredFrom, answered, fineTunes, accepted, buffered: (st.fineTune as { buffered: number }).buffered,
    dropped: (st.fineTune as { dropped: number }).dropped, online: st.online,
  }) + '\n');
}
main().then(() => process.exit(0), (e: unknown) => { process.stderr.write(`${String((e as Error).stack ?? e)}\n`); process.exit(1); });
