// What an esbuild metafile says about a bundle: which npm packages went into it (to refuse
// dev-only ones) and how many output bytes each part of edgenn costs (the size report).
//
// It is not the bundler: tools/bundle.ts is the one file that imports esbuild; this file only
// reads the metafile JSON, whose shape is declared below structurally so nothing here depends on
// esbuild's types. Paths in a metafile are relative to the build's working directory (the repo
// root) with forward slashes, e.g. `runtime/model.ts` or `node_modules/mqtt/build/index.js`.
//
// How node_modules bytes are attributed to a part: a "top package" is one that first-party code
// (runtime/, importers/, devices/, tools/) imports directly; every dependency module is charged to
// the top packages from which it is reachable through dependency-to-dependency imports. Reachable
// from exactly one part → that part; from several (mqtt-packet is used by both mqtt and aedes) →
// a "shared: a + b" part, so no byte is counted twice and none is hidden.

/** The parts of a metafile this code reads (a subset of esbuild's Metafile). */
export interface MetafileLike {
  readonly inputs: Readonly<Record<string, {
    readonly bytes: number;
    readonly imports: readonly { readonly path: string; readonly external?: boolean }[];
  }>>;
  readonly outputs: Readonly<Record<string, {
    readonly bytes: number;
    readonly entryPoint?: string;
    readonly inputs: Readonly<Record<string, { readonly bytesInOutput: number }>>;
  }>>;
}

/** The npm package a metafile input path belongs to (`@scope/name` or `name`), null for first-party. */
export function packageOfPath(p: string): string | null {
  const at = p.lastIndexOf('node_modules/');
  if (at < 0) return null;
  const rest = p.slice(at + 'node_modules/'.length).split('/');
  if (rest[0] === undefined || rest[0] === '') return null;
  return rest[0].startsWith('@') && rest[1] !== undefined ? `${rest[0]}/${rest[1]}` : rest[0];
}

/** Does package name `pkg` match a pattern: an exact name, or a prefix ending in `*`
 * (`@tensorflow/*`, `onnxruntime-*`)? */
export function matchesPackage(pkg: string, pattern: string): boolean {
  return pattern.endsWith('*') ? pkg.startsWith(pattern.slice(0, -1)) : pkg === pattern;
}

/** Packages that are dev-only by intent, whatever package.json says: never on a device. */
export const ALWAYS_DEV_ONLY: readonly string[] = [
  'onnxruntime-*', '@tensorflow/*', 'esbuild', '@esbuild/*', 'vitest', '@vitest/*', 'vite', 'typescript', '@types/*',
];

/** Metafile inputs (paths) that belong to a forbidden package, as "package (path)". */
export function forbiddenInputs(meta: MetafileLike, forbidden: readonly string[]): string[] {
  const hits: string[] = [];
  for (const p of Object.keys(meta.inputs)) {
    const pkg = packageOfPath(p);
    if (pkg !== null && forbidden.some((f) => matchesPackage(pkg, f))) hits.push(`${pkg} (${p})`);
  }
  return hits.sort();
}

/** Which report part a first-party path belongs to. */
export function firstPartyPart(p: string): string {
  if (p.startsWith('runtime/')) return 'runtime';
  if (p.startsWith('importers/onnx/')) return 'onnx importer';
  if (p.startsWith('importers/')) return 'importers (data, json model)';
  if (p.startsWith('devices/')) return 'devices';
  if (p.startsWith('tools/')) return 'tools (cli)';
  return 'other first-party';
}

/** Which report part a top package is charged to; everything not named is `deps: <name>`. */
const PACKAGE_PART: Readonly<Record<string, string>> = {
  'mqtt': 'mqtt', 'aedes': 'aedes', 'onnx-proto': 'protobuf', 'protobufjs': 'protobuf',
};

function packagePart(pkg: string): string {
  return PACKAGE_PART[pkg] ?? `deps: ${pkg}`;
}

/** For every node_modules input: the report parts of the top packages that reach it. */
function dependencyParts(meta: MetafileLike): Map<string, Set<string>> {
  const parts = new Map<string, Set<string>>();
  const queue: string[] = [];
  const reach = (path: string, part: string): void => {
    let s = parts.get(path);
    if (s === undefined) { s = new Set(); parts.set(path, s); }
    if (!s.has(part)) { s.add(part); queue.push(path); }
  };
  // seeds: dependency modules imported straight from first-party code
  for (const [path, inp] of Object.entries(meta.inputs)) {
    if (packageOfPath(path) !== null) continue;
    for (const imp of inp.imports) {
      if (imp.external === true) continue;
      const pkg = packageOfPath(imp.path);
      if (pkg !== null) reach(imp.path, packagePart(pkg));
    }
  }
  // propagate each part through dependency-to-dependency imports
  while (queue.length > 0) {
    const path = queue.pop()!;
    const mine = parts.get(path)!;
    for (const imp of meta.inputs[path]?.imports ?? []) {
      if (imp.external === true || packageOfPath(imp.path) === null) continue;
      for (const part of mine) reach(imp.path, part);
    }
  }
  return parts;
}

export interface PartSize {
  readonly part: string;
  /** minified bytes this part contributes to the output file */
  readonly bytes: number;
  readonly modules: number;
}

export interface OutputSize {
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** largest first; `esbuild glue` is the module wrappers and helpers esbuild adds */
  readonly parts: readonly PartSize[];
  /** the 10 largest modules, for finding what to cut */
  readonly largestModules: readonly { readonly path: string; readonly bytes: number }[];
}

/** Splits one output file of the metafile into the report parts. */
export function outputSize(meta: MetafileLike, outFile: string, gzipBytes: number, label = outFile): OutputSize {
  const out = meta.outputs[outFile];
  if (out === undefined) throw new Error(`metafile has no output ${outFile} (has: ${Object.keys(meta.outputs).join(', ')})`);
  const deps = dependencyParts(meta);
  const acc = new Map<string, { bytes: number; modules: number }>();
  const add = (part: string, bytes: number): void => {
    const a = acc.get(part) ?? { bytes: 0, modules: 0 };
    a.bytes += bytes;
    a.modules += 1;
    acc.set(part, a);
  };
  let inModules = 0;
  const modules: { path: string; bytes: number }[] = [];
  for (const [path, { bytesInOutput }] of Object.entries(out.inputs)) {
    if (bytesInOutput === 0) continue;
    inModules += bytesInOutput;
    modules.push({ path, bytes: bytesInOutput });
    if (packageOfPath(path) === null) { add(firstPartyPart(path), bytesInOutput); continue; }
    const ps = [...(deps.get(path) ?? new Set([`deps: ${packageOfPath(path)!}`]))].sort();
    add(ps.length === 1 ? ps[0]! : `shared: ${ps.join(' + ')}`, bytesInOutput);
  }
  if (out.bytes > inModules) acc.set('esbuild glue', { bytes: out.bytes - inModules, modules: 0 });
  const parts = [...acc].map(([part, a]) => ({ part, bytes: a.bytes, modules: a.modules }))
    .sort((x, y) => y.bytes - x.bytes || (x.part < y.part ? -1 : 1));
  modules.sort((x, y) => y.bytes - x.bytes);
  return { file: label, bytes: out.bytes, gzipBytes, parts, largestModules: modules.slice(0, 10) };
}

/** Bytes of one part in an output size (0 when absent). */
export function partBytes(s: OutputSize, part: string): number {
  return s.parts.find((p) => p.part === part)?.bytes ?? 0;
}

function kb(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** A few lines per output, for the terminal. */
export function formatOutputSize(s: OutputSize): string {
  const lines = [`${s.file}: ${kb(s.bytes)} minified, ${kb(s.gzipBytes)} gzipped`];
  for (const p of s.parts) {
    lines.push(`  ${p.part.padEnd(34)} ${kb(p.bytes).padStart(10)}${p.modules > 0 ? `  (${p.modules} modules)` : ''}`);
  }
  return lines.join('\n');
}
