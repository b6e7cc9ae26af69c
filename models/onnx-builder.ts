import onnxProto from 'onnx-proto';
import { ModelBuildError } from './errors';

// onnx-proto is CommonJS with one namespace export; Node's ESM loader only exposes it as default.
const { onnx } = onnxProto;
type IAttributeProto = Parameters<typeof onnx.AttributeProto.create>[0] & object;
type IValueInfoProto = Parameters<typeof onnx.ValueInfoProto.create>[0] & object;

export type OnnxDtype = 'float32' | 'int64';

const ELEM_TYPE: Record<OnnxDtype, number> = { float32: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64 };

/** An initializer kept as a live typed array until serialisation, so folds can still edit it. */
export interface Initializer {
  name: string;
  dtype: OnnxDtype;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export type AttrValue = { int: number } | { ints: number[] } | { float: number } | { string: string };

export interface GraphIO {
  name: string;
  dtype: OnnxDtype;
  shape: number[];
}

export interface NodeSpec {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

function attributeProto(name: string, value: AttrValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: T.INT, i: value.int };
  if ('ints' in value) return { name, type: T.INTS, ints: value.ints };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.string) };
}

function valueInfo(io: GraphIO): IValueInfoProto {
  return {
    name: io.name,
    type: { tensorType: { elemType: ELEM_TYPE[io.dtype], shape: { dim: io.shape.map((d) => ({ dimValue: d })) } } },
  };
}

/** Little-endian bytes of a typed array (ONNX raw_data is little-endian whatever the host). */
function rawBytes(data: Float32Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  else for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, data[i]!, true);
  return out;
}

/**
 * Collects nodes and initializers in the order they are added and writes one ModelProto.
 * Order is the only source of variation, so the same conversion gives the same bytes.
 */
export class OnnxGraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers = new Map<string, Initializer>();
  private readonly taken = new Set<string>();

  /** A name no other value or node has, derived from `base`. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  addInitializer(base: string, dtype: OnnxDtype, dims: number[], data: Float32Array | BigInt64Array): Initializer {
    const init: Initializer = { name: this.uniqueName(base), dtype, dims, data };
    this.initializers.set(init.name, init);
    return init;
  }

  /** Adds a node; output names are made unique and returned. */
  addNode(op: string, inputs: string[], outputBases: string[], attrs: Record<string, AttrValue> = {}): string[] {
    const outputs = outputBases.map((b) => this.uniqueName(b));
    this.nodes.push({ op, name: outputs[0] ?? op, inputs, outputs, attrs });
    return outputs;
  }

  /** Renames a value everywhere (used to give graph outputs their contract names). */
  rename(from: string, to: string): void {
    if (this.taken.has(to)) throw new ModelBuildError(`cannot rename ${from} to ${to}: the name is taken`);
    this.taken.add(to);
    for (const n of this.nodes) {
      n.inputs = n.inputs.map((i) => (i === from ? to : i));
      n.outputs = n.outputs.map((o) => (o === from ? to : o));
      if (n.name === from) n.name = to;
    }
  }

  /**
   * Serialises the graph. Nodes that no output depends on and initializers no node reads are
   * dropped here, so folding during conversion can never leave dead weight in the file.
   */
  toModelBytes(opts: {
    graphName: string;
    opset: number;
    inputs: GraphIO[];
    outputs: GraphIO[];
    docString: string;
    metadata: Record<string, string>;
  }): Uint8Array {
    const needed = new Set(opts.outputs.map((o) => o.name));
    const live: NodeSpec[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i] as NodeSpec;
      if (!n.outputs.some((o) => needed.has(o))) continue;
      live.push(n);
      for (const input of n.inputs) if (input !== '') needed.add(input);
    }
    live.reverse();
    for (const io of [...opts.inputs, ...opts.outputs]) {
      if (!needed.has(io.name)) throw new ModelBuildError(`graph ${io.name} is not connected`);
    }
    const initializers = [...this.initializers.values()].filter((i) => needed.has(i.name));

    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: opts.opset }],
      producerName: 'image-pipeline models/build-model.ts',
      docString: opts.docString,
      metadataProps: Object.entries(opts.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: opts.graphName,
        node: live.map((n) => ({
          name: n.name,
          opType: n.op,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, v)),
        })),
        initializer: initializers.map((i) => ({
          name: i.name,
          dataType: ELEM_TYPE[i.dtype],
          dims: i.dims,
          rawData: rawBytes(i.data),
        })),
        input: opts.inputs.map(valueInfo),
        output: opts.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
