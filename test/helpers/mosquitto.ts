// Test helper: a real Debian mosquitto broker on a free loopback port, started from a config in a
// temp directory, stopped by PID (SIGTERM, then SIGKILL) and restartable on the same port. Every
// wait is bounded. It never skips: without /usr/sbin/mosquitto the caller's test fails with the
// install command.
//
// It is not a mosquitto manager for anything but tests (no TLS, anonymous access, loopback only).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD_BIN = '/usr/bin/mosquitto_passwd';

export function requireMosquitto(): void {
  if (!fs.existsSync(MOSQUITTO_BIN)) {
    throw new Error(`${MOSQUITTO_BIN} not found: these tests need a real MQTT broker. ` +
      'Install it with: apt-get update && apt-get install -y mosquitto');
  }
}

export interface MosquittoOptions {
  /** Keep sessions and queued messages across a SIGTERM restart (persistence file in the temp
   * dir). mosquitto writes it on a clean shutdown and every autosave interval. Default false. */
  readonly persistence?: boolean;
  /** Per-client queue bound for offline/slow persistent subscribers. mosquitto's default is
   * 1000 and drops QoS 1 messages beyond it. Default: mosquitto's own. */
  readonly maxQueuedMessages?: number;
  /** Extra config lines. */
  readonly extra?: readonly string[];
  /** Bounded wait for the port to accept connections. Default 5000 ms. */
  readonly startTimeoutMs?: number;
  /** false: only clients with a user name and password from `passwords` may connect. Default true. */
  readonly allowAnonymous?: boolean;
  /** user → password; written as a mosquitto password file (hashed by mosquitto_passwd -U). */
  readonly passwords?: Readonly<Record<string, string>>;
  /** Contents of an acl_file (see docs/mosquitto-acl.md). */
  readonly acl?: string;
}

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly logFile: string;
  readonly running: boolean;
  readonly pid: number | null;
  /** Starts (or restarts) on the same port; resolves once the port accepts connections. */
  start(): Promise<void>;
  /** SIGTERM (clean: saves persistence), then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (no persistence save). */
  kill(): Promise<void>;
  restart(): Promise<void>;
  log(): string;
  /** Stops and removes the temp dir. */
  dispose(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  requireMosquitto();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-mosquitto-'));
  const port = await freePort();
  const logFile = path.join(dir, 'mosquitto.log');
  const lines = [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${opts.allowAnonymous === false ? 'false' : 'true'}`,
    `persistence ${opts.persistence === true ? 'true' : 'false'}`,
    `persistence_location ${dir}/`,
    'persistence_file mosquitto.db',
    'autosave_interval 1',
    `log_dest file ${logFile}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    'log_timestamp true',
  ];
  // NOTE: started as root, mosquitto 2 drops to the "mosquitto" user and then cannot write its
  // log or persistence file in our root-owned temp dir; `user root` keeps it as it is.
  if (typeof process.getuid === 'function' && process.getuid() === 0) lines.push('user root');
  if (opts.maxQueuedMessages !== undefined) lines.push(`max_queued_messages ${opts.maxQueuedMessages}`);
  if (opts.passwords !== undefined) {
    const pw = path.join(dir, 'passwords');
    fs.writeFileSync(pw, Object.entries(opts.passwords).map(([u, p]) => `${u}:${p}`).join('\n') + '\n', { mode: 0o600 });
    execFileSync(MOSQUITTO_PASSWD_BIN, ['-U', pw], { stdio: 'ignore', timeout: 10_000 });
    lines.push(`password_file ${pw}`);
  }
  if (opts.acl !== undefined) {
    const acl = path.join(dir, 'acl');
    fs.writeFileSync(acl, opts.acl, { mode: 0o600 });
    lines.push(`acl_file ${acl}`);
  }
  lines.push(...(opts.extra ?? []));
  const confFile = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(confFile, lines.join('\n') + '\n');

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const startTimeout = opts.startTimeoutMs ?? 5000;

  const readLog = (): string => {
    try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; }
  };

  const waitExit = async (ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); }),
    ]);
    clearTimeout(timer);
    return ok;
  };

  const h: Mosquitto = {
    port, url: `mqtt://127.0.0.1:${port}`, dir, logFile,
    get running() { return child !== null; },
    get pid() { return child?.pid ?? null; },
    async start() {
      if (child !== null) return;
      let stderr = '';
      const c = spawn(MOSQUITTO_BIN, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      child = c;
      let gone = false;
      exited = new Promise<void>((resolve) => {
        c.once('exit', () => { gone = true; if (child === c) child = null; resolve(); });
        c.once('error', () => { gone = true; if (child === c) child = null; resolve(); });
      });
      const deadline = Date.now() + startTimeout;
      while (Date.now() < deadline) {
        if (gone) break;
        if (await canConnect(port)) return;
        await sleep(20);
      }
      const why = gone ? 'exited during start-up' : `did not accept connections within ${startTimeout} ms`;
      if (!gone) { c.kill('SIGKILL'); await waitExit(2000); }
      throw new Error(`mosquitto on port ${port} ${why}\nstderr: ${stderr}\nlog:\n${readLog()}`);
    },
    async stop(graceMs = 3000) {
      const c = child;
      if (c === null) return;
      c.kill('SIGTERM');
      if (!(await waitExit(graceMs))) {
        c.kill('SIGKILL');
        if (!(await waitExit(2000))) throw new Error(`mosquitto pid ${c.pid} survived SIGKILL`);
      }
    },
    async kill() {
      const c = child;
      if (c === null) return;
      c.kill('SIGKILL');
      if (!(await waitExit(2000))) throw new Error(`mosquitto pid ${c.pid} survived SIGKILL`);
    },
    async restart() {
      await h.stop();
      await h.start();
    },
    log: readLog,
    async dispose() {
      await h.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await h.start();
  return h;
}
