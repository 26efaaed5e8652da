// The inference sources of the agent, each end to end through startAgent (offline: no broker):
// JSON lines on a stream (stdin), a tailed file that resumes at its offset after a restart, a CSV
// batch, and the loopback HTTP endpoint on a TCP port and on a Unix socket.
// Outputs are compared exactly with a separate compile of the same JSON model: the agent runs the
// same kernels on the same float32 weights and prints float32 values in their shortest exact
// decimal, so any difference is a bug, not rounding.
import * as fs from 'node:fs';
import * as http from 'node:http';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../devices/agent/agent.js';
import { loadAgentConfig } from '../../../devices/agent/config.js';
import { tailOffsetFile } from '../../../devices/agent/sources/tail.js';
import { jsonModelGraph, parseJsonModel } from '../../../importers/json-model.js';
import { compile } from '../../../runtime/model.js';
import { FINE_TUNE, blobs, modelText, sleep, until, work, type Work } from './support.js';

let w: Work;
const agents: Agent[] = [];
beforeEach(() => { w = work('edgenn-agent-src-'); });
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  w.cleanup();
});

const reference = compile(jsonModelGraph(parseJsonModel(modelText())), { maxBatch: 1 });
/** The model's output for x as float32 values. */
function expected(x: number[]): number[] {
  return Array.from(reference.run(Float32Array.from(x), 1).subarray(0, 3));
}
/** An answer's y read back as float32 (the agent prints float32 in its shortest exact decimal). */
function yOf(r: Record<string, unknown> | undefined): number[] {
  return (r!.y as number[]).map((v) => Math.fround(v));
}

async function start(over: Record<string, unknown>, extra: Parameters<typeof startAgent>[1] = {}): Promise<Agent> {
  const a = await startAgent(loadAgentConfig(w.config(over)), extra);
  agents.push(a);
  return a;
}

describe('stdin JSON lines', () => {
  it('answers every line in order: outputs, samples, errors; lines split across chunks', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => { text += d.toString(); });
    await start({ sources: [{ kind: 'stdin' }], fineTune: FINE_TUNE }, { stdin: input, stdout: output });
    const { x } = blobs(3, 1);
    input.write(JSON.stringify({ id: 'a', x: x[0] }) + '\n');
    input.write(`{"id": 7, "x": [${x[1]!.join(',')}`);      // a line in two chunks
    input.write(']}\n\n   \n');                              // blank lines: no answer
    input.write(JSON.stringify({ x: x[2], label: 2 }) + '\n');
    input.write('{"id": "bad", "x": [1, 2]}\n');
    input.write('not json\n');
    input.write(JSON.stringify({ id: 'nested', x: [[x[0]![0], x[0]![1]], [x[0]![2], x[0]![3]]] }) + '\n');
    input.write(JSON.stringify({ id: 'nan', x: [1, 2, 3, 'a'] }) + '\n');
    input.write(JSON.stringify({ id: 'lbl', x: x[0], label: 3 }) + '\n');
    await until(() => text.split('\n').length >= 9, 5000, () => `8 answers, got ${JSON.stringify(text)}`);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(8);
    expect(lines[0]!.id).toBe('a');
    expect(yOf(lines[0])).toEqual(expected(x[0]!));
    expect(typeof lines[0]!.ms).toBe('number');
    expect(lines[1]!.id).toBe(7);
    expect(yOf(lines[1])).toEqual(expected(x[1]!));
    expect(lines[2]).toEqual({ ok: true, buffered: 1, dropped: 0 });
    expect(lines[3]).toEqual({ id: 'bad', error: 'tensor x: x has the wrong number of values; expected 4, got 2' });
    expect(lines[4]!.error).toMatch(/^not valid JSON: not json/);
    expect(lines[5]!.id).toBe('nested');
    expect(yOf(lines[5])).toEqual(expected(x[0]!));
    expect(lines[6]).toEqual({ id: 'nan', error: 'x must be an array of numbers (nested arrays are flattened)' });
    expect(lines[7]!.error).toMatch(/label is not a class index; expected an integer in \[0, 3\), got 3/);
  });

  it('refuses labelled samples when fine-tuning is not configured', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => { text += d.toString(); });
    await start({ sources: [{ kind: 'stdin' }] }, { stdin: input, stdout: output });
    input.write(JSON.stringify({ id: 1, x: [0, 0, 0, 0], label: 0 }) + '\n');
    await until(() => text.includes('\n'), 5000, () => 'an answer');
    expect(JSON.parse(text)).toEqual({ id: 1, error: 'fine-tuning is not configured (no fineTune section): labelled samples are not accepted' });
  });
});

describe('tailed file', () => {
  it('answers appended lines and resumes at its offset after a restart (no line answered twice)', async () => {
    const input = w.p('in.jsonl');
    const out = w.p('out.jsonl');
    const src = { kind: 'tail', path: 'in.jsonl', output: 'out.jsonl', pollMs: 50 };
    const { x } = blobs(12, 2);
    const line = (i: number): string => JSON.stringify({ id: i, x: x[i] }) + '\n';
    fs.writeFileSync(input, line(0) + line(1));
    let a = await start({ sources: [src] });
    const answered = (): Array<Record<string, unknown>> => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    await until(() => answered().length === 2, 5000, () => `2 answers, got ${answered().length}`);
    fs.appendFileSync(input, line(2) + line(3).slice(0, 10));    // a partial line stays unanswered
    await until(() => answered().length === 3, 5000, () => `3 answers, got ${answered().length}`);
    await sleep(200);
    expect(answered()).toHaveLength(3);
    fs.appendFileSync(input, line(3).slice(10));
    await until(() => answered().length === 4, 5000, () => `4 answers, got ${answered().length}`);
    await a.stop();
    agents.splice(agents.indexOf(a), 1);
    const saved = JSON.parse(fs.readFileSync(tailOffsetFile(w.p('state'), input), 'utf8')) as { offset: number };
    expect(saved.offset).toBe(fs.statSync(input).size);

    fs.appendFileSync(input, line(4) + line(5));                  // written while the agent is down
    a = await start({ sources: [src] });
    await until(() => answered().length === 6, 5000, () => `6 answers, got ${answered().length}`);
    await sleep(200);
    const all = answered();
    expect(all.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const r of all) expect(yOf(r)).toEqual(expected(x[r.id as number]!));

    // truncated (e.g. rotated in place): read again from the start
    fs.writeFileSync(input, line(6));
    await until(() => answered().length === 7, 5000, () => `7 answers, got ${answered().length}`);
    expect(answered()[6]!.id).toBe(6);
  });
});

describe('CSV batch', () => {
  it('writes one output row per input row', async () => {
    const { x } = blobs(40, 3);
    w.write('batch.csv', ['a,b,c,d', ...x.map((r) => r.join(','))].join('\n') + '\n');
    const a = await start({ sources: [{ kind: 'csv', path: 'batch.csv' }] });
    await a.csvDone;
    const rows = fs.readFileSync(w.p('batch.predictions.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('row,y0,y1,y2');
    expect(rows).toHaveLength(41);
    for (let i = 0; i < 40; i++) {
      const cells = rows[i + 1]!.split(',').map(Number);
      expect(cells[0]).toBe(i);
      expect(cells.slice(1).map((v) => Math.fround(v))).toEqual(expected(x[i]!));
    }
    expect(a.status().inference).toMatchObject({ count: 40 });
  });

  it('with samples: true fills the fine-tuning buffer from a label column', async () => {
    const { x, y } = blobs(20, 4);
    w.write('labelled.csv', ['a,b,c,d,label', ...x.map((r, i) => [...r, y[i]].join(','))].join('\n') + '\n');
    const a = await start({ sources: [{ kind: 'csv', path: 'labelled.csv', samples: true }], fineTune: FINE_TUNE });
    await a.csvDone;
    expect(a.buffer!.count).toBe(20);
  });
});

function request(target: { port?: number; socketPath?: string }, method: string, p: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', ...target, method, path: p, headers: { 'content-type': 'application/json' }, timeout: 5000 }, (res) => {
      let s = '';
      res.on('data', (d: Buffer) => { s += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(s) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('HTTP endpoint', () => {
  it('serves /infer, /sample, /health, /metrics on 127.0.0.1 with the documented status codes', async () => {
    const a = await start({ sources: [{ kind: 'http', port: 0, maxBodyBytes: 1024 }], fineTune: FINE_TUNE });
    const port = Number(a.httpAddresses[0]!.split(':').pop());
    expect(a.httpAddresses[0]).toBe(`http://127.0.0.1:${port}`);
    const { x } = blobs(2, 5);
    const r1 = await request({ port }, 'POST', '/infer', JSON.stringify({ id: 'q', x: x[0] }));
    expect(r1.status).toBe(200);
    expect(r1.json.id).toBe('q');
    expect(yOf(r1.json)).toEqual(expected(x[0]!));
    const r2 = await request({ port }, 'POST', '/sample', JSON.stringify({ x: x[1], label: 1 }));
    expect(r2).toEqual({ status: 200, json: { ok: true, buffered: 1, dropped: 0 } });
    expect((await request({ port }, 'POST', '/infer', JSON.stringify({ x: x[1], label: 1 }))).status).toBe(400);
    expect((await request({ port }, 'POST', '/sample', JSON.stringify({ x: x[1] }))).status).toBe(400);
    expect((await request({ port }, 'POST', '/infer', '{oops')).json).toEqual({ error: 'body is not valid JSON' });
    expect((await request({ port }, 'POST', '/infer', JSON.stringify({ x: [1] }))).status).toBe(400);
    expect((await request({ port }, 'POST', '/infer', JSON.stringify({ x: new Array(2000).fill(1) }))).status).toBe(413);
    expect((await request({ port }, 'GET', '/nope')).status).toBe(404);
    expect((await request({ port }, 'GET', '/infer')).status).toBe(405);
    const h = await request({ port }, 'GET', '/health');
    expect(h.status).toBe(200);
    expect(h.json).toMatchObject({ ok: true, device: 'pi1', model: { id: 'blobs', version: '1.0.0' }, online: false });
    const m = await request({ port }, 'GET', '/metrics');
    expect(m.json).toMatchObject({ device: 'pi1', inference: { count: 1, errors: 1 }, fineTune: { buffered: 1, added: 1 } });
  });

  it('serves on a Unix socket (mode 0660) and replaces a stale socket file', async () => {
    const sock = w.p('agent.sock');
    const a = await start({ sources: [{ kind: 'http', socket: 'agent.sock' }] });
    expect(a.httpAddresses).toEqual([`unix:${sock}`]);
    expect(fs.statSync(sock).mode & 0o777).toBe(0o660);
    const { x } = blobs(1, 6);
    const r = await request({ socketPath: sock }, 'POST', '/infer', JSON.stringify({ x: x[0] }));
    expect(yOf(r.json)).toEqual(expected(x[0]!));
    await a.stop();
    agents.splice(agents.indexOf(a), 1);
    // a killed agent leaves its socket behind; the next start must not fail on it
    const net = await import('node:net');
    const stale = net.createServer();
    await new Promise<void>((r2) => stale.listen(sock, () => r2()));
    await new Promise<void>((r2) => { stale.close(() => r2()); });
    fs.writeFileSync(w.p('placeholder'), '');
    const b = await start({ sources: [{ kind: 'http', socket: 'agent.sock' }] });
    expect((await request({ socketPath: sock }, 'GET', '/health')).status).toBe(200);
    await b.stop();
    agents.splice(agents.indexOf(b), 1);
  });
});
