// Config validation (devices/agent/config.ts) and its CLI surface: every problem is reported, each
// by key path; unknown keys, wrong types, out-of-range values and missing files; secrets never
// appear in a message. Exact string checks: a message is the product here.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { AgentConfigError, loadAgentConfig, validateAgentConfig } from '../../../devices/agent/config.js';
import { EdgennError } from '../../../runtime/errors.js';
import { runCli } from '../../../tools/cli/main.js';
import { agentCommand } from '../../../tools/cli/commands/agent.js';
import { work, type Work } from './support.js';

let w: Work;
beforeEach(() => { w = work('edgenn-agent-config-'); });
afterEach(() => w.cleanup());

function problems(over: Record<string, unknown>): string[] {
  const file = w.config(over);
  try {
    loadAgentConfig(file);
  } catch (e) {
    expect(e).toBeInstanceOf(AgentConfigError);
    return [...(e as AgentConfigError).problems];
  }
  throw new Error('config was accepted');
}

describe('agent config', () => {
  it('accepts a minimal config, fills defaults and resolves paths against the config folder', () => {
    const c = loadAgentConfig(w.config());
    expect(c.device).toBe('pi1');
    expect(c.stateDir).toBe(w.p('state'));
    expect(c.model).toEqual({ store: w.p('store'), path: w.p('model.json'), id: 'blobs', version: '1.0.0' });
    expect(c.broker).toBeNull();              // offline
    expect(c.fineTune).toBeNull();
    expect(c.maxBatch).toBe(16);
    expect(c.probation).toEqual({ inferences: 100, durationSec: 600, latencyFactor: 3 });
    expect(c.updates).toEqual({ publicKeys: [], maxArtifactBytes: 64 * 1024 * 1024, fileRoots: [] });
  });

  it('fills fine-tune defaults and keeps the loss and optimizer records', () => {
    const c = loadAgentConfig(w.config({ fineTune: { loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 0.01 } } }));
    expect(c.fineTune).toMatchObject({
      enabled: true, bufferSize: 1024, minSamples: 32, everyNewSamples: 0, scheduleSec: 0, epochs: 3, batchSize: 16,
      validationSplit: 0.2, keepCheckpoints: 3, seed: 0, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 0.01 },
    });
  });

  it('names unknown keys by their full path, at every level', () => {
    w.write('ca.pem', 'x');
    const p = problems({
      modle: {},
      broker: { url: 'mqtt://127.0.0.1:1883', tls: { ca: 'ca.pem', cafile: 'x' } },
      fineTune: { loss: { kind: 'mse', weight: [1] }, optimizer: { kind: 'sgd', lr: 0.1, momentun: 0.9 } },
      sources: [{ kind: 'tail', file: 'in.jsonl', path: 'in.jsonl' }],
    });
    expect(p.some((s) => s.startsWith('modle: unknown key'))).toBe(true);
    expect(p.some((s) => s.startsWith('broker.tls.cafile: unknown key'))).toBe(true);
    expect(p.some((s) => s.startsWith('fineTune.loss.weight: unknown key'))).toBe(true);
    expect(p.some((s) => s.startsWith('fineTune.optimizer.momentun: unknown key'))).toBe(true);
    expect(p.some((s) => s.startsWith('sources[0].file: unknown key'))).toBe(true);
    expect(p).toHaveLength(5);
  });

  it('names wrong types and out-of-range values, all at once', () => {
    const p = problems({
      device: 'pi/1', maxBatch: '16', signature: { input: [4, 0], output: [3] }, reportIntervalMs: 5,
      fineTune: { loss: { kind: 'hinge' }, optimizer: { kind: 'sgd', lr: -1 }, validationSplit: 1.5 },
      broker: { url: 'mqtt://127.0.0.1:1883', protocol: 3 },
      sources: [{ kind: 'http', host: '0.0.0.0', port: 8080 }, { kind: 'carrier-pigeon' }],
      probation: { latencyFactor: 0.5 },
    });
    const at = p.map((s) => s.slice(0, s.indexOf(':')));
    expect(at.sort()).toEqual([
      'broker.protocol', 'device', 'fineTune.loss.kind', 'fineTune.optimizer.lr', 'fineTune.validationSplit', 'maxBatch',
      'probation.latencyFactor', 'reportIntervalMs', 'signature.input[1]', 'sources[0].host', 'sources[1].kind',
    ].sort());
    expect(p.find((s) => s.startsWith('maxBatch'))).toBe('maxBatch: expected an integer >= 1 and <= 65536, got the string "16"');
    expect(p.find((s) => s.startsWith('sources[0].host'))).toContain('must be a loopback address');
  });

  it('names files that do not exist', () => {
    const p = problems({
      model: { store: 'store', path: 'missing.json' },
      broker: { url: 'mqtts://127.0.0.1:8883', tls: { ca: 'nope/ca.pem', cert: 'c.pem', key: 'k.pem' } },
      updates: { publicKeys: ['keys/fleet.pub'] },
      sources: [{ kind: 'csv', path: 'batch.csv' }, { kind: 'tail', path: 'no-such-dir/in.jsonl' }],
    });
    expect(p).toEqual([
      `broker.tls.ca: file ${w.p('nope/ca.pem')} does not exist`,
      `broker.tls.cert: file ${w.p('c.pem')} does not exist`,
      `broker.tls.key: file ${w.p('k.pem')} does not exist`,
      `model.path: file ${w.p('missing.json')} does not exist`,
      `sources[0].path: file ${w.p('batch.csv')} does not exist`,
      `sources[1].path: folder ${w.p('no-such-dir')} does not exist`,
      `updates.publicKeys[0]: file ${w.p('keys/fleet.pub')} does not exist`,
    ]);
  });

  it('never puts a password into a message', () => {
    const secret = 's3cr3t-Pa55';
    const p = problems({
      broker: { url: `ftp://dev:${secret}@127.0.0.1:1883`, password: 42, passwordFile: 'pw.txt' },
    });
    const all = p.join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain('42');
    expect(p.some((s) => s.startsWith('broker.url: unsupported scheme'))).toBe(true);
    expect(p.some((s) => s.startsWith('broker.password: expected a non-empty string, got number'))).toBe(true);
  });

  it('requires the top level to be an object, reports bad JSON and a missing file', () => {
    expect(() => validateAgentConfig([], w.p('x.json'))).toThrow(/config: expected an object/);
    w.write('bad.json', '{"device": ');
    expect(() => loadAgentConfig(w.p('bad.json'))).toThrow(EdgennError);
    expect(() => loadAgentConfig(w.p('bad.json'))).toThrow(/not valid JSON/);
    expect(() => loadAgentConfig(w.p('none.json'))).toThrow(/cannot read agent config: ENOENT/);
  });

  it('edgenn agent exits 2 with one line naming the key path, before starting anything', async () => {
    const file = w.config({ maxBatch: 0, sources: [{ kind: 'stdin', extra: 1 }] });
    let out = '', err = '';
    const code = await runCli(['agent', '--config', file], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, isTTY: false, cwd: w.dir }, [agentCommand]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(err).toContain('invalid agent config (2 problems)');
    expect(err).toContain('maxBatch: expected an integer >= 1');
    expect(err).toContain('sources[0].extra: unknown key');
    expect(fs.existsSync(w.p('state'))).toBe(false); // nothing started
  });
});
