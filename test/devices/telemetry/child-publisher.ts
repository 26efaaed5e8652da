// Child process for the kill -9 test: a device publishing metrics through startTelemetry, driven
// by its own timer so the test can bound how many records it makes. It appends "<kind> <seq>" to a
// ledger file right after each record enters the outbox (same synchronous tick), so the test knows
// what was made even when this process is SIGKILLed. Bundled by esbuild (support.ts), not a test.
//
// argv[2]: JSON {url, stateDir, ledger, device, intervalMs, count (0 = until killed)}

import * as fs from 'node:fs';
import { startTelemetry } from '../../../devices/telemetry/start-telemetry.js';

interface Args { url: string; stateDir: string; ledger: string; device: string; intervalMs: number; count: number }
const a = JSON.parse(process.argv[2] ?? '{}') as Args;
const ledger = fs.openSync(a.ledger, 'a');

const tel = startTelemetry({
  fleet: 'lab', device: a.device, stateDir: a.stateDir,
  mqtt: { url: a.url, reconnectMinMs: 30, reconnectMaxMs: 150, keepaliveSec: 2 },
  model: () => ({ id: 'child', version: '1', hash: '0' }), agentVersion: 'test',
  reportIntervalMs: 3_600_000, // the test drives flush() itself
  cursorSaveMs: 100,           // so a kill finds a saved cursor that lags the acks a little
  onAppend: (kind, seq) => { fs.writeSync(ledger, `${kind} ${seq}\n`); },
});

let made = 0;
const timer = setInterval(() => {
  tel.ring.recordInference(100 + (made % 50));
  tel.publisher.flush();
  made++;
  if (a.count > 0 && made >= a.count) {
    clearInterval(timer);
    void (async () => {
      const drained = await tel.publisher.waitDrained(30_000);
      await tel.stop(1000);
      process.stdout.write(`done ${drained ? 'drained' : 'NOT-drained'}\n`);
      process.exit(drained ? 0 : 3);
    })();
  }
}, a.intervalMs);
process.stdout.write(`started seq=${tel.seq.peek()} pending=${tel.outbox.depth}\n`);
