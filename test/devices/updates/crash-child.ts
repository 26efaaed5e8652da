// Child process of the crash test (bundled by esbuild, see support.ts; not a test file): opens a
// model store and runs an update sequence through the real code (verify → stage → validate with
// the agent-like check → commit, then markStable or rollback). With EDGENN_TEST_KILL_AT_STEP=k it
// SIGKILLs itself right after the k-th durable step the store reports; each step is also appended
// to a log file first (a synchronous write, so the test knows where a random-timed kill landed).
//
// argv[2]: JSON {store, pub, artifacts: [path...], mode, chunk, log, local?: path}
//   mode 'first-install'   empty store: stageLocal(local) → validate → commit → markStable
//        'update-keep'     install artifacts[0] → markStable
//        'update-rollback' install artifacts[0] → rollback
//        'loop'            forever: install artifacts[i % n], then markStable (or rollback every 3rd)
import * as fs from 'node:fs';
import { ModelStore, type StoreStep } from '../../../devices/updates/store.js';
import { installUpdate } from '../../../devices/updates/update.js';
import { loadPublicKey } from '../../../devices/updates/signing.js';
import { agentCheck, fieldsFor } from './support.js';

interface Args { store: string; pub: string; artifacts: string[]; mode: string; chunk: number; log: string; local?: string }
const a = JSON.parse(process.argv[2] ?? '{}') as Args;
const killAt = Number(process.env.EDGENN_TEST_KILL_AT_STEP ?? '0');
const log = fs.openSync(a.log, 'a');
const steps: StoreStep[] = [];
const onStep = (s: StoreStep): void => {
  steps.push(s);
  fs.writeSync(log, `${s}\n`);
  if (steps.length === killAt) process.kill(process.pid, 'SIGKILL');
};

async function main(): Promise<void> {
  const { store } = ModelStore.open(a.store, { onStep, writeChunkBytes: a.chunk });
  process.stdout.write('ready\n');
  const opts = { publicKeys: [loadPublicKey(a.pub)], agentVersion: '0.1.0', check: agentCheck };
  const arts = a.artifacts.map((p) => fs.readFileSync(p));
  switch (a.mode) {
    case 'first-install': {
      const m = fs.readFileSync(a.local!);
      const s = store.stageLocal(m, fieldsFor(m, 'local'));
      await store.validate(s, agentCheck);
      store.commit(s);
      store.markStable();
      break;
    }
    case 'update-keep':
      await installUpdate(store, arts[0]!, opts);
      store.markStable();
      break;
    case 'update-rollback':
      await installUpdate(store, arts[0]!, opts);
      store.rollback();
      break;
    case 'loop':
      for (let i = 0; i < 100_000; i++) {
        await installUpdate(store, arts[i % arts.length]!, opts);
        if (i % 3 === 2) store.rollback();
        else store.markStable();
      }
      break;
    default:
      throw new Error(`unknown mode ${a.mode}`);
  }
  process.stdout.write(`steps ${JSON.stringify(steps)}\n`);
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`child failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
