// Graph-level checks on a decoded OnnxModel, before the importer builds anything from it:
//   - every node input ('' = optional input left out) is a graph input, an initializer, or the
//     output of some node (Constant included);
//   - no value name is produced twice (by two nodes, or by a node and a graph input/initializer);
//   - graph inputs and graph outputs are unique, and every graph output is produced;
//   - nodes are put in topological order (a stable reorder when the file lists them out of order);
//     a cycle is an error that names the nodes on it.
// It is NOT a type or shape checker, and it does not look inside subgraphs (If/Loop bodies may
// use outer-scope names; the importer refuses such nodes anyway). Errors: EdgennError 'GRAPH'.
import { EdgennError } from '../../runtime/errors.js';
import { nodeLabel, type OnnxGraph, type OnnxModel, type OnnxNode } from './model.js';

/** Returns the model with its main graph's nodes in topological order (the same object when the
 *  file's order already is one); throws EdgennError('GRAPH') naming the node and tensor at fault. */
export function validateGraph(model: OnnxModel, file?: string): OnnxModel {
  const nodes = checkAndSort(model.graph, file);
  return nodes === model.graph.nodes ? model : { ...model, graph: { ...model.graph, nodes } };
}

function checkAndSort(g: OnnxGraph, file: string | undefined): readonly OnnxNode[] {
  const at = (node?: string, tensor?: string) => ({
    ...(file !== undefined ? { file } : {}),
    ...(node !== undefined ? { node } : {}),
    ...(tensor !== undefined ? { tensor } : {}),
  });

  const inputs = new Set<string>();
  for (const v of g.inputs) {
    if (inputs.has(v.name)) throw new EdgennError('GRAPH', 'graph input listed twice', at(undefined, v.name));
    inputs.add(v.name);
  }
  // initializers may also be graph inputs (IR < 4 requires it), so the two sets may overlap
  const isSource = (name: string): boolean => inputs.has(name) || g.initializers.has(name);

  const producer = new Map<string, number>();
  g.nodes.forEach((node, i) => {
    for (const out of node.outputs) {
      if (out === '') continue;
      if (isSource(out)) {
        throw new EdgennError('GRAPH', 'node output has the name of a graph input or initializer',
          at(nodeLabel(node, i), out));
      }
      const other = producer.get(out);
      if (other !== undefined) {
        throw new EdgennError('GRAPH', `value produced twice (also by node ${nodeLabel(g.nodes[other]!, other)})`,
          at(nodeLabel(node, i), out));
      }
      producer.set(out, i);
    }
  });

  let inOrder = true;
  g.nodes.forEach((node, i) => {
    for (const inp of node.inputs) {
      if (inp === '' || isSource(inp)) continue;
      const p = producer.get(inp);
      if (p === undefined) {
        throw new EdgennError('GRAPH', 'input is not a graph input, an initializer or any node output',
          at(nodeLabel(node, i), inp));
      }
      if (p >= i) inOrder = false;
    }
  });

  const outputs = new Set<string>();
  for (const v of g.outputs) {
    if (outputs.has(v.name)) throw new EdgennError('GRAPH', 'graph output listed twice', at(undefined, v.name));
    outputs.add(v.name);
    if (!isSource(v.name) && !producer.has(v.name)) {
      throw new EdgennError('GRAPH', 'graph output is not produced by any node', at(undefined, v.name));
    }
  }

  return inOrder ? g.nodes : topoSort(g.nodes, producer, isSource, file);
}

/** Kahn's algorithm, seeded and fed in file order, so the result is deterministic. */
function topoSort(nodes: readonly OnnxNode[], producer: ReadonlyMap<string, number>,
                  isSource: (name: string) => boolean, file: string | undefined): OnnxNode[] {
  const n = nodes.length;
  const pending = new Int32Array(n);      // (n) inputs of node i not yet produced
  const consumers: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    for (const inp of node.inputs) {
      if (inp === '' || isSource(inp)) continue;
      const p = producer.get(inp)!;
      consumers[p]!.push(i);
      pending[i]!++;
    }
  });
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (pending[i] === 0) queue.push(i);
  const order: OnnxNode[] = [];
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head]!;
    order.push(nodes[i]!);
    for (const c of consumers[i]!) if (--pending[c]! === 0) queue.push(c);
  }
  if (order.length === n) return order;

  // a cycle: walk from a stuck node to a stuck predecessor until a node repeats
  let cur = pending.findIndex((p) => p > 0);
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  while (!seenAt.has(cur)) {
    seenAt.set(cur, path.length);
    path.push(cur);
    const node = nodes[cur]!;
    const pred = node.inputs.map((inp) => (inp === '' || isSource(inp) ? -1 : producer.get(inp)!))
      .find((p) => p >= 0 && pending[p]! > 0)!;
    cur = pred;
  }
  const cycle = path.slice(seenAt.get(cur)!).reverse().map((i) => nodeLabel(nodes[i]!, i));
  throw new EdgennError('GRAPH', `nodes form a cycle: ${cycle.join(' -> ')} -> ${cycle[0]}`,
    { ...(file !== undefined ? { file } : {}), node: cycle[0]! });
}
