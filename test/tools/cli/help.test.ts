// The dispatcher: `edgenn --help` lists every registered command, `--help`/-h/`help <cmd>` on
// every command, --version from package.json, unknown commands, and the error → exit code
// mapping (EdgennError → 2 one line; anything else → 1, stack only under EDGENN_DEBUG=1).
// Tolerance: exact (strings and exit codes).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { COMMANDS } from '../../../tools/cli/commands/index.js';
import { EdgennError } from '../../../runtime/errors.js';
import type { Command } from '../../../tools/cli/command.js';
import { cli } from './support.js';

const cwd = process.cwd();

describe('edgenn dispatcher', () => {
  test('edgenn --help lists every command with its summary', async () => {
    const r = await cli(['--help'], cwd);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.spec.name}`);
    for (const name of ['demo', 'train', 'run']) expect(COMMANDS.map((c) => c.spec.name)).toContain(name);
    expect((await cli(['-h'], cwd)).stdout).toBe(r.stdout);
    expect((await cli(['help'], cwd)).stdout).toBe(r.stdout);
  });
  test('no arguments: help on stderr, exit 2', async () => {
    const r = await cli([], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: edgenn <command>');
  });
  test.each(COMMANDS.map((c) => [c.spec.name]))('edgenn %s --help / -h / help %s', async (name) => {
    const r = await cli([name, '--help'], cwd);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`usage: edgenn ${name}`);
    expect(r.stdout).toContain('--help');
    expect((await cli([name, '-h'], cwd)).stdout).toBe(r.stdout);
    expect((await cli(['help', name], cwd)).stdout).toBe(r.stdout);
  });
  test('train --help documents every flag the issue asks for', async () => {
    const h = (await cli(['train', '--help'], cwd)).stdout;
    for (const f of ['data', 'labels', 'label-column', 'loss', 'reduction', 'class-weights', 'ignore-index', 'label-smoothing', 'pos-weight',
      'log-target', 'targets', 'optimizer', 'lr', 'momentum', 'dampening', 'nesterov', 'weight-decay', 'betas', 'eps', 'epochs',
      'batch-size', 'no-shuffle', 'seed', 'validation-split', 'early-stopping-patience', 'clip-grad-norm', 'health-every', 'out',
      'log-json', 'checkpoint']) {
      expect(h).toContain(`--${f}`);
    }
  });
  test('--version prints package.json\'s version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = await cli(['--version'], cwd);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`edgenn ${pkg.version}\n`);
  });
  test('unknown command: exit 2 naming it and listing the commands', async () => {
    const r = await cli(['trian'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "trian"');
    expect(r.stderr).toContain('train');
  });
  test('EdgennError -> exit 2, one line; other errors -> exit 1, stack only with EDGENN_DEBUG=1', async () => {
    const mk = (e: Error): Command => ({
      spec: { name: 'boom', summary: 's', usage: '', positionals: [], flags: [] },
      run: () => Promise.reject(e),
    });
    const a = await cli(['boom'], cwd, { commands: [mk(new EdgennError('DATA', 'bad\nthing', { file: 'f.csv' }))] });
    expect(a.code).toBe(2);
    expect(a.stderr).toBe('edgenn boom: file f.csv: bad thing\n');
    const b = await cli(['boom'], cwd, { commands: [mk(new TypeError('oops'))] });
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('edgenn boom: unexpected error: oops');
    expect(b.stderr).not.toContain('at ');
    const c = await cli(['boom'], cwd, { commands: [mk(new TypeError('oops'))], env: { EDGENN_DEBUG: '1' } });
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/TypeError: oops\n\s+at /);
  });
});
