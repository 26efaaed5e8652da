// The one error class of edgenn. Builders, importers, loaders and tools throw it; kernels never
// throw. A code says what kind of failure it is (stable, for programs); the message names the
// file, node, tensor, what was expected and what was found (for people).

export type ErrorCode =
  | 'SHAPE'          // a tensor's shape contradicts an op's rule or a declared shape
  | 'ARG'            // a bad argument or option value
  | 'ARENA_FULL'     // the arena's fixed size cannot hold what is asked
  | 'UNSUPPORTED'    // an op, type or feature edgenn does not implement
  | 'DATA'           // bad data: NaN/Inf, a label out of range, a malformed file
  | 'IO'             // a file could not be read or written
  | 'CHECKSUM'       // a checkpoint or artifact failed its integrity check
  | 'DECODE'         // malformed bytes of an outside format (ONNX, npy, ...)
  | 'GRAPH'          // a graph is malformed: cycle, dangling value, duplicate name
  | 'LIMIT'          // a declared size beyond a configured limit
  | 'SIGNATURE'      // a signature did not verify
  | 'STATE';         // an operation is not valid in the object's current state

export interface ErrorContext {
  readonly file?: string;
  readonly node?: string;
  readonly tensor?: string;
  readonly expected?: string;
  readonly actual?: string;
}

export class EdgennError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(EdgennError.format(message, context));
    this.name = 'EdgennError';
    this.code = code;
    this.context = context;
  }

  private static format(message: string, c: ErrorContext): string {
    const where: string[] = [];
    if (c.file !== undefined) where.push(`file ${c.file}`);
    if (c.node !== undefined) where.push(`node ${c.node}`);
    if (c.tensor !== undefined) where.push(`tensor ${c.tensor}`);
    let s = where.length > 0 ? `${where.join(', ')}: ${message}` : message;
    if (c.expected !== undefined) s += `; expected ${c.expected}`;
    if (c.actual !== undefined) s += `, got ${c.actual}`;
    return s;
  }
}

export function isEdgennError(e: unknown): e is EdgennError {
  return e instanceof EdgennError;
}
