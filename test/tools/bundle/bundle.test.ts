// tools/bundle.ts on this machine: what `npm run bundle` writes (bundles, device package, size
// report), that the CommonJS bundle runs as a program and only as one, the runtime-core size
// budget, the dev-only guard and the metafile attribution. The bundle on Node 18 for arm64/armhf
// is emulated-pi.test.ts. Nothing here has a float tolerance: sizes, bytes and text are exact.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_BUDGET_BYTES, buildBundles, devOnlyPackages, type BundleResult, type SizeReport } from '../../../tools/bundle.js';
import { forbiddenInputs, outputSize, packageOfPath, partBytes, type MetafileLike } from '../../../tools/bundle/metafile.js';
import { bundledPackages } from '../../../tools/bundle/licenses.js';
import { validateAgentConfig } from '../../../devices/agent/config.js';
import { FIXTURES, REPO, expectOk, spawnCapture } from './support.js';

let work: string;
let r: BundleResult;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-bundle-'));
  r = await buildBundles({ outDir: path.join(work, 'dist') });
}, 60_000);
afterAll(() => { if (work !== undefined) fs.rmSync(work, { recursive: true, force: true }); });

const UNIT_EXEC = 'ExecStart=/usr/bin/node --max-semi-space-size=1 --expose-gc --no-concurrent-recompilation --disallow-code-generation-from-strings ' +
  '/opt/edgenn/edgenn-agent.cjs agent --config /etc/edgenn/device.json';

describe('npm run bundle', () => {
  it('writes the CLI bundle, the device package and the size report', () => {
    const dist = path.join(work, 'dist');
    for (const f of ['edgenn.cjs', 'edgenn.cjs.map', 'size-report.json', 'THIRD_PARTY_LICENSES.txt']) {
      expect(fs.existsSync(path.join(dist, f)), f).toBe(true);
    }
    expect(fs.readdirSync(r.deviceDir).sort()).toEqual([
      'CONFIG.md', 'README.md', 'THIRD_PARTY_LICENSES.txt', 'device.example.json', 'edgenn-agent.cjs', 'edgenn-agent.cjs.map',
      'edgenn-agent.service', 'edgenn.cjs', 'edgenn.cjs.map', 'package.json',
    ]);
    expect(r.smoke).toBeNull();
    expect(fs.existsSync(path.join(dist, 'pi-smoke.cjs'))).toBe(false);
  });

  it('makes CommonJS files with a shebang, a linked source map and no import.meta left', () => {
    for (const f of [r.cli, r.agent, r.deviceCli]) {
      const js = fs.readFileSync(f, 'utf8');
      expect(js.startsWith('#!/usr/bin/env node\n')).toBe(true);
      expect(js).not.toMatch(/import\.meta/);
      expect(js).not.toMatch(/^\s*(import|export)\s/m);
      expect(js.trimEnd().endsWith(`//# sourceMappingURL=${path.basename(f)}.map`)).toBe(true);
      const map = JSON.parse(fs.readFileSync(`${f}.map`, 'utf8')) as { sources: string[] };
      expect(map.sources.some((s) => s.endsWith(f === r.agent ? 'tools/cli/agent-main.ts' : 'tools/cli/main.ts'))).toBe(true);
      expect(fs.statSync(f).mode & 0o111).not.toBe(0);
    }
  });

  it('ships the CLI in the device package as it is in dist/, and the agent bundle as the agent alone', () => {
    // same code; only the source map's relative paths differ (device/ is one folder deeper)
    expect(fs.readFileSync(r.deviceCli, 'utf8') === fs.readFileSync(r.cli, 'utf8')).toBe(true);
    // source-map paths are relative to the map's folder: made relative to the repo here
    const sources = (f: string): string[] => (JSON.parse(fs.readFileSync(`${f}.map`, 'utf8')) as { sources: string[] }).sources
      .map((s) => path.relative(REPO, path.resolve(path.dirname(f), s)).split(path.sep).join('/'));
    const agent = sources(r.agent);
    const cli = sources(r.cli);
    // no other command, no broker: every module the agent never runs is memory on the board
    expect(agent.filter((s) => s.startsWith('tools/cli/commands/'))).toEqual(['tools/cli/commands/agent.ts']);
    expect(agent.filter((s) => packageOfPath(s) === 'aedes')).toEqual([]);
    expect(cli.filter((s) => packageOfPath(s) === 'aedes').length).toBeGreaterThan(0);
    expect(cli).toContain('tools/cli/commands/train.ts');
  });

  it('defers what only some agents use: loading the agent bundle does not load node:http', async () => {
    // esbuild keeps a module reached only through import() in a lazy initialiser: required (not
    // run), the bundle evaluates its static graph only. node:http is needed by the HTTP source
    // and the update fetcher alone, both import()ed when configured / used; a static import of
    // either would show up here. process.moduleLoadList names every core module node loaded.
    const probe = `const b = new Set(process.moduleLoadList); require(${JSON.stringify(r.agent)}); ` +
      'console.log(JSON.stringify(process.moduleLoadList.filter((m) => !b.has(m))))';
    const loaded = JSON.parse(expectOk('probe', await spawnCapture(process.execPath, ['-e', probe], { timeoutMs: 30_000 })).stdout) as string[];
    expect(loaded).toContain('NativeModule crypto'); // the probe sees the static graph's modules
    expect(loaded).not.toContain('NativeModule http');
  });

  it('runs the CLI when executed, under --disallow-code-generation-from-strings', async () => {
    const help = expectOk('help', await spawnCapture(process.execPath,
      ['--disallow-code-generation-from-strings', r.cli, '--help'], { timeoutMs: 30_000 }));
    expect(help.stdout).toMatch(/^usage: edgenn <command>/);
    // the device package carries its own package.json, so the version is known on the board
    const v = expectOk('version', await spawnCapture(process.execPath, [r.agent, '--version'], { timeoutMs: 30_000 }));
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(v.stdout.trim()).toBe(`edgenn ${pkg.version}`);
    // bad input: exit code 2 and one line, as from build/tools/cli/main.js
    const bad = await spawnCapture(process.execPath, [r.cli, 'run', path.join(FIXTURES, 'missing.json')], { timeoutMs: 30_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^edgenn run: .*missing\.json/);
  });

  it('does nothing when required instead of executed (the entry-point check works in CJS)', async () => {
    for (const f of [r.cli, r.agent]) {
      const req = expectOk('require', await spawnCapture(process.execPath,
        ['-e', `require(${JSON.stringify(f)}); console.log('loaded')`], { timeoutMs: 30_000 }));
      expect(req.stdout).toBe('loaded\n');
      expect(req.stderr).toBe('');
    }
  });

  it('runs only the agent command from the agent bundle, with the same dispatcher', async () => {
    const help = expectOk('agent help', await spawnCapture(process.execPath, [r.agent, '--help'], { timeoutMs: 30_000 }));
    expect(help.stdout).toMatch(/^usage: edgenn <command>/);
    expect(help.stdout).toMatch(/\n {2}agent {2}/);
    expect(help.stdout).not.toMatch(/\n {2}train /);
    const train = await spawnCapture(process.execPath, [r.agent, 'train'], { timeoutMs: 30_000 });
    expect(train.code).toBe(2);
    expect(train.stderr).toMatch(/unknown command "train"; commands: agent/);
    const bad = await spawnCapture(process.execPath, [r.agent, 'agent', '--config', path.join(FIXTURES, 'missing.json')], { timeoutMs: 30_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^edgenn agent: .*missing\.json/);
  });
});

describe('size report', () => {
  it('is written next to the bundles and adds up', () => {
    const onDisk = JSON.parse(fs.readFileSync(path.join(work, 'dist/size-report.json'), 'utf8')) as SizeReport;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(r.report)));
    for (const o of [r.report.outputs.core, r.report.outputs.cli, r.report.outputs.agent]) {
      expect(o.parts.reduce((s, p) => s + p.bytes, 0)).toBe(o.bytes);
    }
    expect(r.report.outputs.cli.bytes).toBe(fs.statSync(r.cli).size);
    expect(r.report.outputs.agent.bytes).toBe(fs.statSync(r.agent).size);
    expect(r.report.summary.agentTotal).toBe(fs.statSync(r.agent).size);
    // the agent bundle's headline parts are all found (an attribution bug would zero one)
    const agent = r.report.outputs.agent;
    for (const part of ['runtime', 'mqtt', 'protobuf', 'onnx importer', 'devices', 'tools (cli)']) {
      expect(partBytes(agent, part), part).toBeGreaterThan(0);
    }
    expect(agent.parts.filter((p) => p.part.includes('aedes'))).toEqual([]);
    for (const part of ['aedes', 'shared: aedes + mqtt']) expect(partBytes(r.report.outputs.cli, part), part).toBeGreaterThan(0);
    expect(r.report.summary.onnxAndProtobuf).toBe(partBytes(agent, 'onnx importer') + partBytes(agent, 'protobuf'));
    expect(r.report.summary.mqtt).toBe(partBytes(agent, 'mqtt'));
    expect(r.report.summary.aedes).toBe(partBytes(r.report.outputs.cli, 'aedes'));
    expect(r.report.summary.mqttAedesShared).toBe(partBytes(r.report.outputs.cli, 'shared: aedes + mqtt'));
  });

  it('keeps the runtime core (runtime/** only, no mqtt, no importers) under its budget', () => {
    const core = r.report.outputs.core;
    // the core entry reaches nothing outside runtime/ (core-entry.ts is the generated entry)
    expect(core.parts.map((p) => p.part).sort()).toEqual(['esbuild glue', 'other first-party', 'runtime']);
    expect(core.parts.find((p) => p.part === 'other first-party')!.bytes).toBeLessThan(1024);
    expect(core.bytes, `runtime core ${core.bytes} B > budget ${CORE_BUDGET_BYTES} B: see CORE_BUDGET_BYTES in tools/bundle.ts`)
      .toBeLessThanOrEqual(CORE_BUDGET_BYTES);
  });
});

describe('metafile helpers', () => {
  const meta: MetafileLike = {
    inputs: {
      'devices/telemetry/mqtt-transport.ts': { bytes: 1, imports: [{ path: 'node_modules/mqtt/build/index.js' }, { path: 'node:net', external: true }] },
      'devices/telemetry/embedded-broker.ts': { bytes: 1, imports: [{ path: 'node_modules/aedes/aedes.js' }] },
      'node_modules/mqtt/build/index.js': { bytes: 1, imports: [{ path: 'node_modules/mqtt-packet/mqtt.js' }, { path: 'node_modules/ws/index.js' }] },
      'node_modules/aedes/aedes.js': { bytes: 1, imports: [{ path: 'node_modules/mqtt-packet/mqtt.js' }] },
      'node_modules/mqtt-packet/mqtt.js': { bytes: 1, imports: [{ path: 'node_modules/bl/bl.js' }] },
      'node_modules/bl/bl.js': { bytes: 1, imports: [] },
      'node_modules/ws/index.js': { bytes: 1, imports: [] },
      'runtime/model.ts': { bytes: 1, imports: [] },
    },
    outputs: {
      'dist/x.cjs': {
        bytes: 1000,
        inputs: {
          'devices/telemetry/mqtt-transport.ts': { bytesInOutput: 10 },
          'devices/telemetry/embedded-broker.ts': { bytesInOutput: 20 },
          'node_modules/mqtt/build/index.js': { bytesInOutput: 300 },
          'node_modules/aedes/aedes.js': { bytesInOutput: 200 },
          'node_modules/mqtt-packet/mqtt.js': { bytesInOutput: 100 },
          'node_modules/bl/bl.js': { bytesInOutput: 50 },
          'node_modules/ws/index.js': { bytesInOutput: 40 },
          'runtime/model.ts': { bytesInOutput: 70 },
        },
      },
    },
  };

  it('charges each dependency to the top packages that reach it, shared ones once', () => {
    const s = outputSize(meta, 'dist/x.cjs', 0);
    const parts = Object.fromEntries(s.parts.map((p) => [p.part, p.bytes]));
    expect(parts).toEqual({
      'mqtt': 340, 'aedes': 200, 'shared: aedes + mqtt': 150, 'devices': 30, 'runtime': 70, 'esbuild glue': 210,
    });
    expect(() => outputSize(meta, 'dist/nope.cjs', 0)).toThrow(/no output dist\/nope\.cjs/);
  });

  it('names packages by path, nested and scoped', () => {
    expect(packageOfPath('node_modules/protobufjs/node_modules/long/umd/index.js')).toBe('long');
    expect(packageOfPath('node_modules/@tensorflow/tfjs-core/dist/index.js')).toBe('@tensorflow/tfjs-core');
    expect(packageOfPath('runtime/model.ts')).toBeNull();
  });

  it('finds dev-only packages in a metafile (the build throws on any)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as
      { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const dev = devOnlyPackages(pkg);
    for (const d of Object.keys(pkg.devDependencies)) expect(dev).toContain(d);
    for (const d of Object.keys(pkg.dependencies)) expect(dev).not.toContain(d);
    const bad: MetafileLike = {
      inputs: {
        'runtime/model.ts': { bytes: 1, imports: [] },
        'node_modules/@tensorflow/tfjs-core/dist/index.js': { bytes: 1, imports: [] },
        'node_modules/onnxruntime-web/dist/ort.js': { bytes: 1, imports: [] },
        'node_modules/mqtt/build/index.js': { bytes: 1, imports: [] },
      },
      outputs: {},
    };
    expect(forbiddenInputs(bad, dev)).toEqual([
      '@tensorflow/tfjs-core (node_modules/@tensorflow/tfjs-core/dist/index.js)',
      'onnxruntime-web (node_modules/onnxruntime-web/dist/ort.js)',
    ]);
  });
});

describe('device package', () => {
  it('has a systemd unit: unprivileged user, restart on failure, memory limit, the agreed ExecStart', () => {
    const unit = fs.readFileSync(path.join(r.deviceDir, 'edgenn-agent.service'), 'utf8');
    const lines = unit.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toContain(UNIT_EXEC);
    expect(lines).toContain('User=edgenn');
    expect(lines).toContain('Group=edgenn');
    expect(lines).toContain('Restart=on-failure');
    expect(lines).toContain('RestartPreventExitStatus=2');
    expect(lines.some((l) => /^MemoryMax=\d+[KMG]$/.test(l))).toBe(true);
    expect(lines).toContain('NoNewPrivileges=yes');
    // V8's JIT needs W+X pages: this option would kill node at start
    expect(lines.some((l) => l.startsWith('MemoryDenyWriteExecute'))).toBe(false);
    expect(lines).toContain('WantedBy=multi-user.target');
  });

  it('has a package.json with the version, the install steps, and the notices of every bundled package', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const dpkg = JSON.parse(fs.readFileSync(path.join(r.deviceDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(dpkg).toMatchObject({ name: 'edgenn', version: pkg.version, private: true, type: 'commonjs' });
    expect(dpkg.dependencies).toBeUndefined(); // nothing to install on the board
    expect(fs.readFileSync(path.join(r.deviceDir, 'README.md'), 'utf8'))
      .toBe(fs.readFileSync(path.join(REPO, 'docs/raspberry-pi.md'), 'utf8'));
    const notices = fs.readFileSync(path.join(r.deviceDir, 'THIRD_PARTY_LICENSES.txt'), 'utf8');
    const map = JSON.parse(fs.readFileSync(`${r.agent}.map`, 'utf8')) as { sources: string[] };
    const inBundle = new Set(map.sources.map((s) => packageOfPath(s.replace(/^(\.\.\/)+/, ''))).filter((p) => p !== null));
    expect(inBundle.size).toBeGreaterThan(0);
    for (const p of inBundle) expect(notices, p!).toContain(`${p}@`);
    expect(bundledPackages(REPO, { inputs: {}, outputs: {} })).toEqual([]);
  });

  it('ships an example config that the agent accepts once its paths exist', () => {
    const text = fs.readFileSync(path.join(r.deviceDir, 'device.example.json'), 'utf8');
    // the documented install locations, moved into a temp dir for the validator's existence checks
    const etc = path.join(work, 'etc-edgenn');
    const lib = path.join(work, 'var-lib-edgenn');
    fs.mkdirSync(etc, { recursive: true });
    fs.mkdirSync(lib, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'model.json'), path.join(etc, 'model.json'));
    const raw = JSON.parse(text.replaceAll('/etc/edgenn', etc).replaceAll('/var/lib/edgenn', lib)) as unknown;
    const cfg = validateAgentConfig(raw, path.join(etc, 'device.json'));
    expect(cfg.stateDir).toBe(lib);
    expect(cfg.model.path).toBe(path.join(etc, 'model.json'));
    // every absolute path of the example is one of the two install locations
    for (const m of text.matchAll(/"(\/[^"]*)"/g)) expect(m[1]!).toMatch(/^\/(etc\/edgenn|var\/lib\/edgenn)(\/|$)/);
  });
});
