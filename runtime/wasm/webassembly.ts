// The slice of the WebAssembly JS API the kernels' loader uses, typed here because @types/node 18
// under this tsconfig (lib ES2022, no DOM) declares no `WebAssembly` global. A module-scoped type
// plus one guarded lookup of globalThis, rather than an ambient `declare namespace`, so nothing
// clashes if a later tsconfig adds the DOM lib. Not here: loading the kernels (kernels.ts).

export interface WasmMemory {
  /** NOTE: `grow` detaches this buffer (and every view over it): size once, never grow. */
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

export interface WasmModule { readonly __wasmModule?: never }

export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}

export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (module: WasmModule, imports: Readonly<Record<string, Readonly<Record<string, unknown>>>>) => WasmInstance;
  readonly Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}

/** The host's WebAssembly object, or null where there is none (some embedded JS engines). */
export function webAssemblyApi(): WasmApi | null {
  const wa = (globalThis as { WebAssembly?: unknown }).WebAssembly;
  if (typeof wa !== 'object' || wa === null) return null;
  const api = wa as Partial<WasmApi>;
  return typeof api.validate === 'function' && typeof api.Module === 'function' &&
    typeof api.Instance === 'function' && typeof api.Memory === 'function' ? api as WasmApi : null;
}
