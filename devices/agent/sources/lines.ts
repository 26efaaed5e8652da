// JSON-lines source over a stream: stdin in the agent (`{"kind": "stdin"}`), any Readable in
// tests. Each line is a request (protocol.ts); each non-blank line gets exactly one response line
// on the output, in order. Lines longer than maxLineBytes are answered with an error and skipped
// (a runaway producer cannot make the agent buffer without bound).
//
// It is not the tailed-file source (tail.ts keeps an offset on disk; a stream has none).

import type { Readable, Writable } from 'node:stream';
import { serveLine, type ServingPort } from '../protocol.js';

export interface LineSourceOptions {
  readonly input: Readable;
  readonly output: Writable;
  readonly port: ServingPort;
  /** Default 1 MiB. */
  readonly maxLineBytes?: number;
  /** Called when the input ends. */
  readonly onEnd?: () => void;
}

export interface LineSource {
  /** Lines answered so far. */
  readonly lines: number;
  stop(): void;
}

export function startLineSource(o: LineSourceOptions): LineSource {
  const max = o.maxLineBytes ?? 1 << 20;
  let carry = '';
  let skipping = false;   // inside an over-long line: drop until its newline
  let lines = 0;
  const answer = (line: string): void => {
    const r = serveLine(o.port, line);
    if (r === null) return;
    lines++;
    o.output.write(r + '\n');
  };
  const onData = (chunk: Buffer | string): void => {
    const s = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let from = 0;
    for (;;) {
      const nl = s.indexOf('\n', from);
      if (nl < 0) break;
      const piece = s.slice(from, nl);
      from = nl + 1;
      if (skipping) { skipping = false; carry = ''; continue; }
      answer(carry + piece);
      carry = '';
    }
    if (!skipping) {
      carry += s.slice(from);
      if (carry.length > max) {
        skipping = true;
        carry = '';
        lines++;
        o.output.write(`{"error":"line longer than ${max} bytes, skipped"}\n`);
      }
    }
  };
  const onEnd = (): void => {
    if (!skipping && carry !== '') answer(carry);
    carry = '';
    o.onEnd?.();
  };
  o.input.setEncoding('utf8');
  o.input.on('data', onData);
  o.input.once('end', onEnd);
  return {
    get lines() { return lines; },
    stop() {
      o.input.off('data', onData);
      o.input.off('end', onEnd);
      o.input.pause();
    },
  };
}
