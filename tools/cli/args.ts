// The CLI's argv parser (no dependency): a command declares its flags and positionals in a
// CommandSpec; parseArgs checks argv against it and returns the raw strings; typed getters
// (numberFlag, intFlag, listFlag, ...) convert and validate one flag each, so every message
// names the flag and the bad value.
//
// What it accepts: long flags `--x value` and `--x=value`; boolean flags `--x` (or `--x=true` /
// `--x=false`); repeatable flags (`--input a --input b`); positionals anywhere; `--` ends the
// flags; `-h` is `--help`. A value-taking flag takes the next argument verbatim, even when it
// starts with '-' (so `--ignore-index -100` works).
// What it is not: no short-flag bundling (`-abc`), no abbreviations, no environment variables.
// Every problem is an EdgennError('ARG'): the CLI maps it to exit code 2.
import { EdgennError } from '../../runtime/errors.js';

export interface FlagSpec {
  /** long name without the dashes, e.g. 'batch-size' */
  readonly name: string;
  /** 'boolean' takes no value; 'value' takes one */
  readonly kind: 'boolean' | 'value';
  /** may be given several times (values are collected in order) */
  readonly repeat?: boolean;
  /** placeholder in the help text, e.g. 'FILE' */
  readonly meta?: string;
  readonly help: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly help: string;
  readonly required?: boolean;
  /** takes every remaining positional */
  readonly variadic?: boolean;
}

export interface CommandSpec {
  readonly name: string;
  /** one line for `edgenn --help` */
  readonly summary: string;
  /** the usage line after `edgenn <name>` */
  readonly usage: string;
  /** longer text printed after the usage line */
  readonly description?: string;
  readonly positionals: readonly PositionalSpec[];
  /** `--help` is added to every command */
  readonly flags: readonly FlagSpec[];
  /** printed at the end of --help */
  readonly examples?: readonly string[];
}

export interface ParsedArgs {
  readonly command: string;
  readonly positionals: readonly string[];
  /** value flags: every value in order; boolean flags: 'true' / 'false' */
  readonly flags: ReadonlyMap<string, readonly string[]>;
}

export const HELP_FLAG: FlagSpec = { name: 'help', kind: 'boolean', help: 'show this help and exit' };

/** A usage error: names the command so the message reads `edgenn <cmd>: ...`. */
export function usageError(message: string, expected?: string, actual?: string): EdgennError {
  const ctx: { expected?: string; actual?: string } = {};
  if (expected !== undefined) ctx.expected = expected;
  if (actual !== undefined) ctx.actual = actual;
  return new EdgennError('ARG', message, ctx);
}

function allFlags(spec: CommandSpec): readonly FlagSpec[] {
  return spec.flags.some((f) => f.name === 'help') ? spec.flags : [...spec.flags, HELP_FLAG];
}

function flagList(spec: CommandSpec): string {
  return allFlags(spec).map((f) => `--${f.name}`).join(', ');
}

/** Parses argv (without the command name) against spec; throws EdgennError('ARG'). */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const f of allFlags(spec)) byName.set(f.name, f);
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (onlyPositionals || a === '-' || !a.startsWith('-')) {
      positionals.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositionals = true;
      continue;
    }
    if (a === '-h') {
      flags.set('help', ['true']);
      continue;
    }
    if (!a.startsWith('--')) {
      throw usageError(`unknown flag ${a} (short flags other than -h are not supported)`, `one of ${flagList(spec)}`);
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    const f = byName.get(name);
    if (f === undefined) {
      throw usageError(`unknown flag --${name}`, `one of ${flagList(spec)}`);
    }
    let value: string;
    if (f.kind === 'boolean') {
      if (inline === undefined) value = 'true';
      else if (inline === 'true' || inline === 'false') value = inline;
      else throw usageError(`--${name} is a switch and takes no value (or =true / =false)`, undefined, JSON.stringify(inline));
    } else if (inline !== undefined) {
      value = inline;
    } else {
      if (i + 1 >= argv.length) throw usageError(`--${name} needs a value${f.meta !== undefined ? ` (${f.meta})` : ''}`);
      value = argv[++i]!;
    }
    const prev = flags.get(name);
    if (prev !== undefined && f.repeat !== true) {
      throw usageError(`--${name} is given more than once`);
    }
    if (prev !== undefined) prev.push(value);
    else flags.set(name, [value]);
  }
  if (flags.get('help')?.[0] !== 'true') checkPositionals(spec, positionals);
  return { command: spec.name, positionals, flags };
}

function checkPositionals(spec: CommandSpec, pos: readonly string[]): void {
  const ps = spec.positionals;
  const required = ps.filter((p) => p.required === true).length;
  const variadic = ps.some((p) => p.variadic === true);
  if (pos.length < required) {
    const missing = ps.filter((p) => p.required === true)[pos.length]!;
    throw usageError(`missing argument <${missing.name}>`, `usage: edgenn ${spec.name} ${spec.usage}`);
  }
  if (!variadic && pos.length > ps.length) {
    throw usageError(`unexpected argument ${JSON.stringify(pos[ps.length])}`, `usage: edgenn ${spec.name} ${spec.usage}`);
  }
}

// --- typed getters ------------------------------------------------------------------------------

export function has(a: ParsedArgs, name: string): boolean {
  return a.flags.has(name);
}

export function boolFlag(a: ParsedArgs, name: string): boolean {
  return a.flags.get(name)?.[0] === 'true';
}

export function stringFlag(a: ParsedArgs, name: string): string | undefined {
  return a.flags.get(name)?.[0];
}

export function requiredString(a: ParsedArgs, name: string, meta = 'VALUE'): string {
  const v = stringFlag(a, name);
  if (v === undefined) throw usageError(`missing required flag --${name} ${meta}`);
  if (v === '') throw usageError(`--${name} is empty`);
  return v;
}

export function repeatedFlag(a: ParsedArgs, name: string): readonly string[] {
  return a.flags.get(name) ?? [];
}

// Decimal numbers only: '1', '-0.5', '1e-3', '.5'. Not '', ' 1', '0x10', 'Infinity', '1,5'.
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  /** exclusive lower bound */
  readonly above?: number;
  /** exclusive upper bound */
  readonly below?: number;
  readonly integer?: boolean;
}

function describeRange(r: NumberRange): string {
  const bounds: string[] = [];
  if (r.min !== undefined) bounds.push(`>= ${r.min}`);
  if (r.above !== undefined) bounds.push(`> ${r.above}`);
  if (r.max !== undefined) bounds.push(`<= ${r.max}`);
  if (r.below !== undefined) bounds.push(`< ${r.below}`);
  return `${r.integer === true ? 'an integer' : 'a number'}${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''}`;
}

/** Parses one number for a flag (or a list element); `what` names it in the message. */
export function parseNumber(what: string, s: string, r: NumberRange = {}): number {
  const v = NUMBER_RE.test(s) ? Number(s) : NaN;
  const ok = Number.isFinite(v) && (r.integer !== true || Number.isSafeInteger(v)) &&
    (r.min === undefined || v >= r.min) && (r.max === undefined || v <= r.max) &&
    (r.above === undefined || v > r.above) && (r.below === undefined || v < r.below);
  if (!ok) throw usageError(`${what}: bad number ${JSON.stringify(s)}`, describeRange(r), JSON.stringify(s));
  return v;
}

export function numberFlag(a: ParsedArgs, name: string, r: NumberRange = {}): number | undefined {
  const s = stringFlag(a, name);
  return s === undefined ? undefined : parseNumber(`--${name}`, s, r);
}

export function requiredNumber(a: ParsedArgs, name: string, r: NumberRange = {}): number {
  const v = numberFlag(a, name, r);
  if (v === undefined) throw usageError(`missing required flag --${name} (${describeRange(r)})`);
  return v;
}

/** A comma-separated list of numbers: `--class-weights 1,2,0.5`. */
export function numberListFlag(a: ParsedArgs, name: string, r: NumberRange = {}): number[] | undefined {
  const s = stringFlag(a, name);
  if (s === undefined) return undefined;
  const parts = s.split(',');
  return parts.map((p, i) => parseNumber(`--${name} element ${i}`, p.trim(), r));
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(a: ParsedArgs, name: string, choices: readonly T[]): T | undefined {
  const s = stringFlag(a, name);
  if (s === undefined) return undefined;
  if (!(choices as readonly string[]).includes(s)) {
    throw usageError(`--${name}: unknown value ${JSON.stringify(s)}`, `one of ${choices.join(', ')}`);
  }
  return s as T;
}

// --- help text ----------------------------------------------------------------------------------

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else {
      line = line === '' ? w : `${line} ${w}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join(`\n${indent}`);
}

/** The `edgenn <cmd> --help` text. */
export function formatHelp(spec: CommandSpec): string {
  const out: string[] = [`usage: edgenn ${spec.name} ${spec.usage}`, '', spec.summary];
  if (spec.description !== undefined) out.push('', wrap(spec.description, 92, ''));
  if (spec.positionals.length > 0) {
    out.push('', 'arguments:');
    for (const p of spec.positionals) {
      const left = `<${p.name}>`;
      const pad = left.length < 26 ? ' '.repeat(26 - left.length) : `\n${' '.repeat(28)}`;
      out.push(`  ${left}${pad}  ${wrap(p.help, 60, ' '.repeat(30))}`);
    }
  }
  out.push('', 'flags:');
  for (const f of allFlags(spec)) {
    const left = `--${f.name}${f.kind === 'value' ? ` ${f.meta ?? 'VALUE'}` : ''}`;
    const pad = left.length < 26 ? ' '.repeat(26 - left.length) : `\n${' '.repeat(28)}`;
    out.push(`  ${left}${pad}  ${wrap(f.help + (f.repeat === true ? ' (repeatable)' : ''), 60, ' '.repeat(30))}`);
  }
  if (spec.examples !== undefined && spec.examples.length > 0) {
    out.push('', 'examples:');
    for (const e of spec.examples) out.push(`  ${e}`);
  }
  return out.join('\n') + '\n';
}
