// `npm run bundle` (node build/tools/bundle.js [--out DIR] [--smoke]): the files a Raspberry Pi
// runs, built with esbuild. The one file of edgenn that imports esbuild.
//
//   dist/edgenn.cjs (+ .map)              the whole CLI (tools/cli/main.ts) in one file
//   dist/device/                          the device package: copy this folder to a board
//     edgenn-agent.cjs (+ .map)           the agent alone (tools/cli/agent-main.ts), run by systemd
//                                         as `... edgenn-agent.cjs agent --config`
//     edgenn.cjs (+ .map)                 the whole CLI again (run, train, broker, ... on the board)
//     edgenn-agent.service                systemd unit (devices/package/)
//     device.example.json                 default agent config (devices/package/)
//     README.md                           docs/raspberry-pi.md, the install steps
//     CONFIG.md                           devices/agent/CONFIG.md, every key of device.json
//     package.json                        name + version only: `edgenn --version` finds it
//     THIRD_PARTY_LICENSES.txt            notices of the npm packages inside the bundle
//   dist/THIRD_PARTY_LICENSES.txt
//   dist/size-report.json                 bytes per part (runtime, protobuf, mqtt, aedes, ...) from the metafile
//   dist/pi-smoke.cjs (--smoke only)      tools/pi/smoke.ts: ONNX decode + one telemetry publish (tests)
//
// Why the agent has its own entry: every module a process evaluates stays in its memory, and a
// Pi Zero 2 W's agent must stay under 64 MB RSS (docs/raspberry-pi.md "Memory"; the test is
// test/tools/bundle/agent-rss.test.ts). Measured on Debian's Node 18 (x86-64 build), idle RSS after
// loading a bundle, no flags: bare node 50.0 MB, the whole CLI bundle 62.7 MB, the agent command's
// module graph 60.6 MB; alone, aedes costs +4.2 MB, the ONNX importer with protobufjs +3.2 MB,
// mqtt +2.5 MB. So the agent bundle has no aedes (the build fails if it appears) and no other
// command, and inside it the ONNX importer, the update fetcher, each source kind and (only with a
// broker) the MQTT client are `import()`ed on first use. esbuild (format=cjs, no splitting) keeps a dynamically imported module in the same file
// but wraps it, and every module only it reaches, in a lazy initialiser (`__esm`), run by the
// first import(): the bytes are parsed, never evaluated. The CLI bundle does the same per command
// (tools/cli/commands/index.ts). The device package carries the CLI as well (it costs disk, not
// memory: the agent never loads it), so a board can still `run`, `train` or host a `broker`.
//
// Every output is platform=node, target=node18, format=cjs, minified, with a linked source map
// (run with `node --enable-source-maps`). Why CommonJS: esbuild's ESM output breaks mqtt.js at run
// time (`Dynamic require of "stream" is not supported`); CJS also forbids top-level await in the
// entries. NOTE: target=node18 lowers syntax only; an API newer than Node 18 (toSorted,
// Object.groupBy, RegExp /v) bundles fine and fails on the device: the emulated-Pi test is what
// proves Node 18 (test/tools/bundle/emulated-pi.test.ts).
//
// `import.meta.url` (tools/cli/main.ts uses it to detect being the entry point and to find
// package.json) does not exist in CJS: it is defined as the bundle file's own URL by a one-line
// banner, so `node edgenn.cjs ...` runs the CLI exactly as `node build/tools/cli/main.js ...` does.
//
// The build fails when a dev-only package (onnxruntime-*, @tensorflow/*, esbuild, vitest, any
// devDependency that is not also a dependency) appears in a metafile: those must never reach a
// device. What it is not: no tree of bundles per command, no code splitting (one file per entry
// is the point), no transpiling of anything but TypeScript syntax.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import {
  ALWAYS_DEV_ONLY, forbiddenInputs, formatOutputSize, outputSize, partBytes,
  type MetafileLike, type OutputSize,
} from './bundle/metafile.js';
import { bundledPackages, thirdPartyNotices } from './bundle/licenses.js';
import { findRepoRoot } from './repo-root.js';

/** Budget of the runtime core (every module under runtime/, all exports kept), minified bytes.
 * 192 KiB. Measured while this was written: 95 KB, then 113 KB, then 142 KiB within an hour, as
 * the ops, int8 quantisation and the WASM kernels (a 9 KB embedded binary) landed in parallel.
 * 192 KiB leaves ~1/3 room above that for the planned kernels; it is half of what the device
 * needs anyway for the mqtt client (~370 KiB with its share of mqtt-packet & co.) and about the
 * ONNX importer with its protobuf code (~195 KiB). The runtime is meant to be readable in an
 * afternoon: a breach is a design question (what grew, does it belong in runtime/?), not a
 * number to raise. */
export const CORE_BUDGET_BYTES = 192 * 1024;

export interface BundleOptions {
  /** repo root (holds package.json); default: found by walking up from this file */
  readonly root?: string;
  /** default <root>/dist */
  readonly outDir?: string;
  /** also build tools/pi/smoke.ts → <outDir>/pi-smoke.cjs */
  readonly smoke?: boolean;
  readonly log?: (line: string) => void;
}

export interface SizeReport {
  readonly format: 'edgenn-size-report';
  readonly version: 1;
  readonly edgenn: string;
  readonly target: 'node18';
  readonly budget: { readonly coreBytes: number };
  /** headline numbers, minified bytes */
  readonly summary: {
    /** the runtime core alone (runtime/**, no mqtt, no importers) */
    readonly coreRuntime: number;
    /** inside the agent bundle (evaluated only for an ONNX model): importers/onnx + onnx-proto +
     * protobufjs + long */
    readonly onnxAndProtobuf: number;
    /** inside the agent bundle: the mqtt client with everything it needs (mqtt-packet, ...) */
    readonly mqtt: number;
    /** inside the CLI bundle (`edgenn broker`); never in the agent bundle */
    readonly aedes: number;
    /** inside the CLI bundle: packages both mqtt and aedes use (mqtt-packet, ...) */
    readonly mqttAedesShared: number;
    readonly agentTotal: number;
    readonly cliTotal: number;
  };
  readonly outputs: { readonly core: OutputSize; readonly cli: OutputSize; readonly agent: OutputSize };
}

export interface BundleResult {
  readonly outDir: string;
  readonly cli: string;
  readonly agent: string;
  /** the CLI inside the device package (dist/device/edgenn.cjs) */
  readonly deviceCli: string;
  readonly deviceDir: string;
  readonly smoke: string | null;
  readonly report: SizeReport;
  /** esbuild warnings, formatted (empty when clean) */
  readonly warnings: readonly string[];
}

export { findRepoRoot };

interface PackageJson {
  readonly version: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
}

function readPackageJson(root: string): PackageJson {
  const j = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Partial<PackageJson>;
  return { version: j.version ?? '0.0.0', dependencies: j.dependencies ?? {}, devDependencies: j.devDependencies ?? {} };
}

/** Packages that never go into the agent bundle (beyond the dev-only ones): the agent does not
 * host a broker, and each of them is memory on the board (aedes: +4.2 MB RSS on Node 18). */
export const AGENT_EXCLUDED: readonly string[] = ['aedes'];

/** Dev-only packages: the fixed list plus every devDependency that is not also a dependency. */
export function devOnlyPackages(pkg: PackageJson): string[] {
  const dev = Object.keys(pkg.devDependencies).filter((d) => !(d in pkg.dependencies));
  return [...new Set([...ALWAYS_DEV_ONLY, ...dev])];
}

/** mqtt.js evaluates `worker-timers` (Web Worker timers, ~15 KB minified and ~1 MB of heap on
 * Node 18) at load, for browsers only: on Node it uses the native timers unless a client asks for
 * `timerVariant: 'worker'`, which edgenn never does. In the bundles the package is this module:
 * the native timers under its names. */
const NATIVE_WORKER_TIMERS: esbuild.Plugin = {
  name: 'edgenn-native-worker-timers',
  setup(b) {
    b.onResolve({ filter: /^worker-timers$/ }, () => ({ path: 'worker-timers', namespace: 'edgenn-native-timers' }));
    b.onLoad({ filter: /.*/, namespace: 'edgenn-native-timers' }, () => ({
      loader: 'js',
      contents: 'module.exports={setInterval:(f,t)=>setInterval(f,t),clearInterval:(i)=>clearInterval(i),' +
        'setTimeout:(f,t)=>setTimeout(f,t),clearTimeout:(i)=>clearTimeout(i)};',
    }));
  },
};

// NOTE: `var` in a banner is module-scoped in CJS (Node wraps the file in a function), so the name
// cannot clash with anything outside the bundle; esbuild's minified names never start with `__edgenn`.
const IMPORT_META_URL = '__edgennImportMetaUrl';
const COMMON: esbuild.BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  // the device maps stack traces to file:line; the sources themselves stay in the repo (smaller
  // maps load faster under --enable-source-maps and cost less memory)
  sourcesContent: false,
  legalComments: 'eof',
  define: {
    'import.meta.url': IMPORT_META_URL,
    // readable-stream 4 (mqtt.js, bl) is Node's own stream code republished; its documented switch
    // READABLE_STREAM=disable makes it re-export node:stream instead. Fixed at build time, so the
    // copy is never bundled: -80 KB minified, ~0.9 MB of heap on Node 18.
    'process.env.READABLE_STREAM': '"disable"',
  },
  plugins: [NATIVE_WORKER_TIMERS],
  banner: { js: `var ${IMPORT_META_URL}=require("node:url").pathToFileURL(__filename).href;` },
  metafile: true,
  logLevel: 'silent',
};

function formatMessages(ms: readonly esbuild.Message[]): string[] {
  return ms.map((m) => `${m.location !== null ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : ''}${m.text}`);
}

async function buildOne(root: string, opts: esbuild.BuildOptions, what: string, forbidden: readonly string[],
  warnings: string[]): Promise<{ meta: MetafileLike; bytes: Uint8Array | null }> {
  let r: esbuild.BuildResult;
  try {
    r = await esbuild.build({ ...COMMON, absWorkingDir: root, ...opts });
  } catch (e) {
    const errs = (e as { errors?: esbuild.Message[] }).errors;
    throw new Error(`bundle ${what} failed:\n  ${errs !== undefined ? formatMessages(errs).join('\n  ') : (e as Error).message}`);
  }
  warnings.push(...formatMessages(r.warnings).map((w) => `${what}: ${w}`));
  const meta = r.metafile as MetafileLike;
  const bad = forbiddenInputs(meta, forbidden);
  if (bad.length > 0) {
    throw new Error(`bundle ${what}: dev-only packages must never be bundled, found:\n  ${bad.slice(0, 20).join('\n  ')}` +
      (bad.length > 20 ? `\n  ... ${bad.length - 20} more` : ''));
  }
  const js = r.outputFiles?.find((f) => f.path.endsWith('.cjs'));
  return { meta, bytes: js !== undefined ? js.contents : null };
}

/** The metafile key of an output path (relative to the working dir, forward slashes). */
function metaKey(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** An entry that imports every module under runtime/ and keeps all their exports alive: the
 * honest size of the runtime core (tree shaking of a narrower entry would only make it smaller). */
function coreEntry(root: string): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(rel);
    }
  };
  walk('runtime');
  files.sort();
  return files.map((f, i) => `import * as m${i} from './${f.replace(/\.ts$/, '.js')}';`).join('\n') +
    `\nexport const modules = [${files.map((_, i) => `m${i}`).join(', ')}];\n`;
}

function copyTemplate(root: string, from: string, to: string): void {
  const src = path.join(root, from);
  if (!fs.existsSync(src)) throw new Error(`device package: ${from} is missing`);
  fs.copyFileSync(src, to);
}

/** Builds every bundle, the device package and the size report. Throws with a readable message. */
export async function buildBundles(o: BundleOptions = {}): Promise<BundleResult> {
  const root = o.root ?? findRepoRoot();
  const outDir = path.resolve(root, o.outDir ?? 'dist');
  const deviceDir = path.join(outDir, 'device');
  const log = o.log ?? ((): void => {});
  const pkg = readPackageJson(root);
  const forbidden = devOnlyPackages(pkg);
  const warnings: string[] = [];

  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(deviceDir, { recursive: true, force: true });
  fs.mkdirSync(deviceDir, { recursive: true });

  const cli = path.join(outDir, 'edgenn.cjs');
  const agent = path.join(deviceDir, 'edgenn-agent.cjs');
  const deviceCli = path.join(deviceDir, 'edgenn.cjs');
  const smoke = o.smoke === true ? path.join(outDir, 'pi-smoke.cjs') : null;
  const coreProbe = path.join(outDir, 'edgenn-core.probe.cjs');

  const [cliB, agentB, coreB, deviceCliB] = await Promise.all([
    buildOne(root, { entryPoints: ['tools/cli/main.ts'], outfile: cli }, 'edgenn.cjs', forbidden, warnings),
    buildOne(root, { entryPoints: ['tools/cli/agent-main.ts'], outfile: agent }, 'device/edgenn-agent.cjs',
      [...forbidden, ...AGENT_EXCLUDED], warnings),
    buildOne(root, {
      stdin: { contents: coreEntry(root), resolveDir: root, sourcefile: 'core-entry.ts', loader: 'ts' },
      outfile: coreProbe, write: false, sourcemap: false,
    }, 'runtime core', forbidden, warnings),
    // built again (not copied) so that its source map's relative paths are right from device/
    buildOne(root, { entryPoints: ['tools/cli/main.ts'], outfile: deviceCli }, 'device/edgenn.cjs', forbidden, warnings),
    ...(smoke !== null
      ? [buildOne(root, { entryPoints: ['tools/pi/smoke.ts'], outfile: smoke }, 'pi-smoke.cjs', forbidden, warnings)]
      : []),
  ]);
  for (const f of [cli, agent, deviceCli, ...(smoke !== null ? [smoke] : [])]) fs.chmodSync(f, 0o755);

  const gz = (file: string): number => gzipSync(fs.readFileSync(file), { level: 9 }).length;
  const core = outputSize(coreB!.meta, metaKey(root, coreProbe), gzipSync(coreB!.bytes!, { level: 9 }).length, 'runtime core (runtime/**)');
  const cliSize = outputSize(cliB!.meta, metaKey(root, cli), gz(cli), 'dist/edgenn.cjs');
  const agentSize = outputSize(agentB!.meta, metaKey(root, agent), gz(agent), 'dist/device/edgenn-agent.cjs');
  const sharedMqttAedes = cliSize.parts.filter((p) => p.part.startsWith('shared: ') &&
    p.part.includes('mqtt') && p.part.includes('aedes')).reduce((s, p) => s + p.bytes, 0);
  const report: SizeReport = {
    format: 'edgenn-size-report', version: 1, edgenn: pkg.version, target: 'node18',
    budget: { coreBytes: CORE_BUDGET_BYTES },
    summary: {
      coreRuntime: core.bytes,
      onnxAndProtobuf: partBytes(agentSize, 'onnx importer') + partBytes(agentSize, 'protobuf'),
      mqtt: partBytes(agentSize, 'mqtt'),
      aedes: partBytes(cliSize, 'aedes'),
      mqttAedesShared: sharedMqttAedes,
      agentTotal: agentSize.bytes,
      cliTotal: cliSize.bytes,
    },
    outputs: { core, cli: cliSize, agent: agentSize },
  };

  // ---- the device package ----
  copyTemplate(root, 'devices/package/edgenn-agent.service', path.join(deviceDir, 'edgenn-agent.service'));
  copyTemplate(root, 'devices/package/device.example.json', path.join(deviceDir, 'device.example.json'));
  copyTemplate(root, 'devices/agent/CONFIG.md', path.join(deviceDir, 'CONFIG.md'));
  copyTemplate(root, 'docs/raspberry-pi.md', path.join(deviceDir, 'README.md'));
  fs.writeFileSync(path.join(deviceDir, 'package.json'), JSON.stringify({
    name: 'edgenn', version: pkg.version, private: true, type: 'commonjs',
    description: 'edgenn device package (generated by npm run bundle; nothing to install)',
    engines: { node: '>=18' },
  }, null, 2) + '\n');
  const notices = (file: string, meta: MetafileLike, name: string): void => {
    fs.writeFileSync(file, thirdPartyNotices(root, bundledPackages(root, meta), name));
  };
  // the device CLI holds every package the agent bundle holds (the agent command is one of its commands)
  notices(path.join(deviceDir, 'THIRD_PARTY_LICENSES.txt'), deviceCliB!.meta, 'edgenn-agent.cjs and edgenn.cjs');
  notices(path.join(outDir, 'THIRD_PARTY_LICENSES.txt'), cliB!.meta, 'edgenn.cjs');
  fs.writeFileSync(path.join(outDir, 'size-report.json'), JSON.stringify(report, null, 2) + '\n');

  for (const s of [core, cliSize, agentSize]) log(formatOutputSize(s));
  if (core.bytes > CORE_BUDGET_BYTES) {
    log(`WARNING: runtime core ${core.bytes} B is over its budget of ${CORE_BUDGET_BYTES} B (test/tools/bundle fails)`);
  }
  for (const w of warnings) log(`warning: ${w}`);
  return { outDir, cli, agent, deviceCli, deviceDir, smoke, report, warnings };
}

function isEntryPoint(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return fs.realpathSync(arg) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const argv = process.argv.slice(2);
  const opts: { outDir?: string; smoke?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out' && argv[i + 1] !== undefined) opts.outDir = path.resolve(argv[++i]!);
    else if (a === '--smoke') opts.smoke = true;
    else {
      process.stderr.write(`usage: node build/tools/bundle.js [--out DIR] [--smoke]\n`);
      process.exit(2);
    }
  }
  buildBundles({ ...opts, log: (l) => { process.stdout.write(`${l}\n`); } }).then(
    (r) => { process.stdout.write(`wrote ${path.relative(process.cwd(), r.outDir) || '.'}/ (size report: size-report.json)\n`); },
    (e: unknown) => {
      process.stderr.write(`bundle: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
