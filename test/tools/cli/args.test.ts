// The CLI's argv parser: flag forms, booleans, repeats, positionals, `--`, and every usage error
// (unknown flag naming the valid ones, missing value, repeated single flag, bad numbers).
// Tolerance: exact (strings and integers).
import { describe, expect, test } from 'vitest';
import {
  boolFlag, choiceFlag, formatHelp, numberFlag, numberListFlag, parseArgs, parseNumber, repeatedFlag, requiredNumber, stringFlag,
  type CommandSpec,
} from '../../../tools/cli/args.js';
import { EdgennError } from '../../../runtime/errors.js';

const spec: CommandSpec = {
  name: 'x', summary: 'test command', usage: '<a> [FILE]...',
  positionals: [{ name: 'a', help: 'first', required: true }, { name: 'FILE', help: 'more', variadic: true }],
  flags: [
    { name: 'lr', kind: 'value', meta: 'X', help: 'a number' },
    { name: 'input', kind: 'value', repeat: true, help: 'repeatable' },
    { name: 'nesterov', kind: 'boolean', help: 'a switch' },
    { name: 'betas', kind: 'value', help: 'a list' },
  ],
};

function usage(f: () => unknown): string {
  try { f(); } catch (e) {
    expect(e).toBeInstanceOf(EdgennError);
    expect((e as EdgennError).code).toBe('ARG');
    return (e as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('parseArgs', () => {
  test('--x value, --x=value, booleans, repeats, positionals anywhere, negative values', () => {
    const a = parseArgs(spec, ['m.json', '--lr', '-0.5', 'f1', '--input=a=1', '--nesterov', '--input', 'b', 'f2', '--betas=0.9,0.99']);
    expect(a.positionals).toEqual(['m.json', 'f1', 'f2']);
    expect(numberFlag(a, 'lr')).toBe(-0.5);
    expect(repeatedFlag(a, 'input')).toEqual(['a=1', 'b']);
    expect(boolFlag(a, 'nesterov')).toBe(true);
    expect(numberListFlag(a, 'betas')).toEqual([0.9, 0.99]);
    expect(stringFlag(a, 'missing')).toBeUndefined();
  });
  test('--flag=false, -- ends flags, -h is --help (and skips the positional check)', () => {
    const a = parseArgs(spec, ['--nesterov=false', 'm', '--', '--lr']);
    expect(boolFlag(a, 'nesterov')).toBe(false);
    expect(a.positionals).toEqual(['m', '--lr']);
    expect(boolFlag(parseArgs(spec, ['-h']), 'help')).toBe(true);
  });
  test('unknown flag: names it and lists the valid flags', () => {
    const m = usage(() => parseArgs(spec, ['m', '--lrr', '1']));
    expect(m).toContain('unknown flag --lrr');
    expect(m).toContain('--lr, --input, --nesterov, --betas, --help');
    expect(usage(() => parseArgs(spec, ['m', '-x']))).toContain('unknown flag -x');
  });
  test('missing value, value on a switch, single flag twice, missing positional', () => {
    expect(usage(() => parseArgs(spec, ['m', '--lr']))).toContain('--lr needs a value');
    expect(usage(() => parseArgs(spec, ['m', '--nesterov=yes']))).toContain('--nesterov is a switch');
    expect(usage(() => parseArgs(spec, ['m', '--lr', '1', '--lr=2']))).toContain('--lr is given more than once');
    expect(usage(() => parseArgs(spec, []))).toContain('missing argument <a>');
    const noVariadic: CommandSpec = { ...spec, positionals: [{ name: 'a', help: '', required: true }] };
    expect(usage(() => parseArgs(noVariadic, ['m', 'extra']))).toContain('unexpected argument "extra"');
  });
});

describe('typed getters', () => {
  test('numbers: decimal only, ranges, integers', () => {
    expect(parseNumber('--x', '1e-3')).toBe(0.001);
    expect(parseNumber('--x', '.5')).toBe(0.5);
    for (const bad of ['', 'abc', '1,5', '0x10', 'Infinity', 'NaN', ' 1', '1e']) {
      expect(usage(() => parseNumber('--x', bad))).toContain(`--x: bad number ${JSON.stringify(bad)}`);
    }
    expect(usage(() => parseNumber('--epochs', '1.5', { integer: true, min: 1 }))).toMatch(/expected an integer >= 1/);
    expect(usage(() => parseNumber('--lr', '-1', { min: 0 }))).toMatch(/expected a number >= 0/);
    expect(usage(() => parseNumber('--f', '1', { below: 1 }))).toMatch(/< 1/);
    expect(usage(() => parseNumber('--c', '0', { above: 0 }))).toMatch(/> 0/);
  });
  test('required numbers, list elements and choices name the flag', () => {
    const a = parseArgs(spec, ['m', '--betas', '0.9,x', '--input', 'q']);
    expect(usage(() => requiredNumber(a, 'lr'))).toContain('missing required flag --lr');
    expect(usage(() => numberListFlag(a, 'betas'))).toContain('--betas element 1: bad number "x"');
    const c = parseArgs(spec, ['m', '--input', 'q']);
    expect(usage(() => choiceFlag(c, 'input', ['a', 'b']))).toMatch(/--input: unknown value "q".*one of a, b/);
  });
  test('help text lists usage, every flag with its placeholder, and --help', () => {
    const h = formatHelp(spec);
    expect(h).toContain('usage: edgenn x <a> [FILE]...');
    for (const f of ['--lr X', '--input VALUE', '--nesterov', '--betas VALUE', '--help']) expect(h).toContain(f);
    expect(h).toContain('(repeatable)');
  });
});
