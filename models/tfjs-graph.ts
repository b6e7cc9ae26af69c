import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ModelBuildError, UnsupportedGraphError } from './errors';
import type { ConstTensor } from './tensor';

/** A TF attribute as tfjs-converter's model.json stores it (a JSON rendering of AttrValue). */
interface RawAttr {
  s?: string | number[];
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: number | string;
  list?: { i?: (string | number)[]; s?: (string | number[])[]; f?: number[] };
  [key: string]: unknown;
}

export interface RawNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, RawAttr>;
}

interface RawWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface RawModelJson {
  modelTopology: { node: RawNode[] };
  weightsManifest: { paths: string[]; weights: RawWeight[] }[];
}

/** One TF op: data inputs only ("node" or "node:k"); control inputs ("^node") are dropped. */
export class TfNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: string[];
  private readonly attrs: Record<string, RawAttr>;

  constructor(raw: RawNode) {
    this.name = raw.name;
    this.op = raw.op;
    this.inputs = (raw.input ?? []).filter((i) => !i.startsWith('^'));
    this.attrs = raw.attr ?? {};
  }

  has(key: string): boolean {
    return key in this.attrs;
  }

  private attr(key: string): RawAttr {
    const a = this.attrs[key];
    if (a === undefined) throw new UnsupportedGraphError(`${this.op} ${this.name}: expected attribute "${key}", found none`);
    return a;
  }

  /** String attributes come as base64 (protobuf JSON) or as a byte array, depending on the exporter. */
  str(key: string): string {
    const s = this.attr(key).s;
    if (s === undefined) return '';
    return typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : Buffer.from(s).toString('utf8');
  }

  int(key: string, fallback?: number): number {
    if (fallback !== undefined && !this.has(key)) return fallback;
    return Number(this.attr(key).i ?? 0);
  }

  float(key: string, fallback?: number): number {
    if (fallback !== undefined && !this.has(key)) return fallback;
    return Number(this.attr(key).f ?? 0);
  }

  bool(key: string, fallback?: boolean): boolean {
    if (fallback !== undefined && !this.has(key)) return fallback;
    return Boolean(this.attr(key).b);
  }

  /** A DataType attribute (1 = float32, 3 = int32), as protobuf JSON gives it: number or enum name. */
  type(key: string): number {
    const t = this.attr(key).type;
    if (typeof t === 'number') return t;
    return ({ DT_FLOAT: 1, DT_INT32: 3 } as Record<string, number>)[String(t)] ?? -1;
  }

  ints(key: string): number[] {
    return (this.attr(key).list?.i ?? []).map(Number);
  }
}

/** The graph with every Const resolved to its weights. */
export interface TfGraph {
  nodes: Map<string, TfNode>;
  consts: Map<string, ConstTensor>;
  /** How many data edges leave each node (any output index); used to know when folding is safe. */
  consumers: Map<string, number>;
}

/** "node:1" -> ["node", 1]; "node" -> ["node", 0]. */
export function parseRef(ref: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? [m[1] as string, Number(m[2])] : [ref, 0];
}

/**
 * Reads a tfjs-converter graph model (model.json + weight shards). Weights of one manifest group are
 * the concatenation of its shards, laid out in manifest order; each Const node is one weight.
 */
export function readTfjsGraph(modelDir: string): TfGraph {
  const json = JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as RawModelJson;
  const consts = new Map<string, ConstTensor>();
  for (const group of json.weightsManifest) {
    const bytes = Buffer.concat(group.paths.map((p) => readFileSync(path.join(modelDir, p))));
    let offset = 0;
    for (const w of group.weights) {
      if (w.quantization !== undefined) throw new UnsupportedGraphError(`weight ${w.name}: quantized weights are not supported`);
      const size = w.shape.reduce((a, b) => a * b, 1);
      const slice = bytes.subarray(offset, offset + size * 4);
      // Copy into a fresh, aligned buffer: shard boundaries give no alignment guarantee.
      const aligned = new Uint8Array(slice).buffer;
      if (w.dtype === 'float32') consts.set(w.name, { dtype: 'float32', shape: w.shape, data: new Float32Array(aligned) });
      else if (w.dtype === 'int32') consts.set(w.name, { dtype: 'int32', shape: w.shape, data: new Int32Array(aligned) });
      else throw new UnsupportedGraphError(`weight ${w.name}: dtype ${w.dtype} is not supported`);
      offset += size * 4;
    }
    if (offset !== bytes.length) {
      throw new ModelBuildError(`weights group ${group.paths.join(',')}: expected ${offset} bytes, found ${bytes.length}`);
    }
  }

  const nodes = new Map<string, TfNode>();
  const consumers = new Map<string, number>();
  for (const raw of json.modelTopology.node) {
    const node = new TfNode(raw);
    nodes.set(node.name, node);
    for (const ref of node.inputs) {
      const [src] = parseRef(ref);
      consumers.set(src, (consumers.get(src) ?? 0) + 1);
    }
    if (node.op === 'Const' && !consts.has(node.name)) {
      throw new ModelBuildError(`Const ${node.name}: expected its value in the weights manifest, found none`);
    }
  }
  return { nodes, consts, consumers };
}
