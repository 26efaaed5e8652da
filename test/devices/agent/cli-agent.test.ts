// `edgenn agent` through runCli (in-process): starts from a config, serves a Unix-socket endpoint,
// stops after --duration with exit code 0 and leaves its outbox; secrets given in the config never
// reach its log; the agent version constant matches package.json.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_VERSION } from '../../../devices/agent/version.js';
import { agentCommand } from '../../../tools/cli/commands/agent.js';
import { runCli } from '../../../tools/cli/main.js';
import { until, work, type Work, outboxRecords } from './support.js';

let w: Work;
beforeEach(() => { w = work('edgenn-agent-cli-'); });
afterEach(() => w.cleanup());

describe('edgenn agent', () => {
  it('runs for --duration, serves, logs without secrets, exits 0', async () => {
    const secret = 'Secr3t-pw-42';
    w.write('pw.txt', `${secret}\n`);
    const file = w.config({
      sources: [{ kind: 'http', socket: 'agent.sock' }],
      // nothing listens on port 1: the agent keeps retrying and buffers telemetry in its outbox
      broker: { url: `mqtt://dev:${secret}@127.0.0.1:1`, username: 'dev', passwordFile: 'pw.txt' },
    });
    let out = '', err = '';
    const run = runCli(['agent', '--config', file, '--duration', '1.5'], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, isTTY: false, cwd: w.dir }, [agentCommand]);
    await until(() => fs.existsSync(w.p('agent.sock')), 5000, () => `the socket; stderr: ${err}`);
    const health = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = http.request({ socketPath: w.p('agent.sock'), path: '/health', timeout: 3000 }, (res) => {
        let s = '';
        res.on('data', (d: Buffer) => { s += d.toString(); });
        res.on('end', () => resolve(JSON.parse(s) as Record<string, unknown>));
      });
      req.on('error', reject);
      req.end();
    });
    expect(health).toMatchObject({ ok: true, device: 'pi1', online: false, model: { id: 'blobs', version: '1.0.0' } });
    expect(await run).toBe(0);
    expect(out).toBe('');
    expect(err).toMatch(/edgenn agent: agent pi1 \(fleet lab\) serving blobs@1\.0\.0 \[http\] on unix:/);
    expect(err).toContain('telemetry to mqtt://dev:***@127.0.0.1:1');
    expect(err).toMatch(/edgenn agent: stopping \(1\.5 s elapsed\)/);
    expect(err).not.toContain(secret);
    const recs = outboxRecords(w.p('state'));
    expect(recs.some((r) => r.kind === 'events' && r.body.type === 'agent-started')).toBe(true);
    expect(JSON.stringify(recs)).not.toContain(secret);
  });

  it('AGENT_VERSION equals the package version', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../../../package.json'), 'utf8')) as { version: string };
    expect(AGENT_VERSION).toBe(pkg.version);
  });
});
