// vitest configuration: tests live under test/, mirror the source folders, run in forked workers.
// Two projects, one after the other (sequence.groupOrder): every test, then the agent's memory
// footprint (test/tools/bundle/agent-rss.test.ts) alone, so that the RSS it reads is the agent's
// and not the agent's under a machine busy with the rest of the suite (V8 collects later when
// the process gets less CPU, which shows as RSS).
import { defineConfig } from 'vitest/config';

const FOOTPRINT = ['test/tools/bundle/agent-rss.test.ts'];
const common = { pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...common, name: 'unit', include: ['test/**/*.test.ts'], exclude: FOOTPRINT, sequence: { groupOrder: 0 } } },
      { test: { ...common, name: 'footprint', include: FOOTPRINT, sequence: { groupOrder: 1 } } },
    ],
  },
});
