import { UnsupportedGraphError } from './errors';
import type { AttrValue, OnnxGraphBuilder } from './onnx-builder';
import { OP_MAPPERS } from './ops/index';
import { reshape, transpose } from './tensor';
import { parseRef, type TfGraph } from './tfjs-graph';
import type { ConstValue, ConvertContext, ConvertOptions, DynValue, Value } from './values';

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

export interface ConversionSpec {
  /** TF placeholder name -> ONNX input (float32, NHWC, static shape). */
  inputs: Record<string, { name: string; shape: number[] }>;
  /**
   * TF nodes whose value is taken from another TF node instead of being converted; how the
   * batch-resizing while-loop is cut out of the graph (see ssd-graph.ts for why that is exact).
   */
  replace: Record<string, string>;
  /** TF output refs to convert. */
  outputs: string[];
}

/**
 * Walks the TF graph from the requested outputs, converting each reachable node once.
 * Nodes whose inputs are all constant are evaluated here; the rest become ONNX nodes.
 */
export class Converter implements ConvertContext {
  private readonly values = new Map<string, Value[]>();
  private readonly layoutCache = new Map<string, string>();
  private readonly constCache = new Map<string, string>();
  /** TF nodes converted, in order; reported as progress. */
  readonly visited: string[] = [];

  constructor(
    private readonly graph: TfGraph,
    private readonly builder: OnnxGraphBuilder,
    readonly options: ConvertOptions,
    private readonly spec: ConversionSpec,
  ) {}

  /** Names of the TF nodes the outputs depend on (what will be converted). */
  reachable(): string[] {
    const seen = new Set<string>();
    const stack = this.spec.outputs.map((r) => parseRef(r)[0]);
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (seen.has(name)) continue;
      seen.add(name);
      const target = this.spec.replace[name];
      if (target !== undefined) stack.push(target);
      else for (const ref of this.graph.nodes.get(name)?.inputs ?? []) stack.push(parseRef(ref)[0]);
    }
    return [...seen];
  }

  value(ref: string): Value {
    const [name, index] = parseRef(ref);
    const outputs = this.convertNode(name);
    const v = outputs[index];
    if (v === undefined) throw new UnsupportedGraphError(`${name} has no output ${index}`);
    return v;
  }

  private convertNode(name: string): Value[] {
    const done = this.values.get(name);
    if (done) return done;
    const replacement = this.spec.replace[name];
    const node = this.graph.nodes.get(name);
    let outputs: Value[];
    if (replacement !== undefined) {
      outputs = [this.value(replacement)];
    } else if (node === undefined) {
      throw new UnsupportedGraphError(`node ${name} is referenced but not in the graph`);
    } else if (node.op === 'Const') {
      outputs = [{ kind: 'const', name, tensor: this.graph.consts.get(name) as ConstValue['tensor'] }];
    } else if (node.op === 'Placeholder') {
      const input = this.spec.inputs[name];
      if (input === undefined) throw new UnsupportedGraphError(`placeholder ${name} has no ONNX input assigned`);
      outputs = [{ kind: 'dyn', name: input.name, shape: input.shape, layout: 'nhwc' }];
    } else {
      const mapper = OP_MAPPERS[node.op];
      if (mapper === undefined) throw new UnsupportedGraphError(`${node.op} ${name}: no ONNX mapping for TF op ${node.op}`);
      const inputs = node.inputs.map((ref) => this.value(ref));
      outputs = mapper(this, node, inputs);
    }
    // A Conv may absorb later constants only while this value feeds exactly one consumer.
    if ((this.graph.consumers.get(name) ?? 0) !== 1) {
      outputs = outputs.map((v) => (v.kind === 'dyn' && v.fold ? { ...v, fold: undefined } : v));
    }
    this.values.set(name, outputs);
    this.visited.push(name);
    return outputs;
  }

  nhwc(v: DynValue): string {
    if (v.layout === 'nhwc') return v.name;
    return this.relayout(v.name, TO_NHWC, '/nhwc');
  }

  nchw(v: DynValue): string {
    if (v.shape.length !== 4) throw new UnsupportedGraphError(`${v.name}: expected a 4-D tensor for NCHW, got [${v.shape}]`);
    if (v.layout === 'nchw') return v.name;
    return this.relayout(v.name, TO_NCHW, '/nchw');
  }

  private relayout(name: string, perm: number[], suffix: string): string {
    const key = `${name}${suffix}`;
    const cached = this.layoutCache.get(key);
    if (cached) return cached;
    const [out] = this.builder.addNode('Transpose', [name], [key], { perm: { ints: perm } });
    this.layoutCache.set(key, out as string);
    return out as string;
  }

  constant(c: ConstValue, variant: { shape?: number[]; perm?: number[] } = {}): string {
    const key = `${c.name}|${variant.shape?.join(',') ?? ''}|${variant.perm?.join(',') ?? ''}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    let t = c.tensor;
    if (variant.shape) t = reshape(t, variant.shape);
    if (variant.perm) t = transpose(t, variant.perm);
    // Reshaped/permuted variants of a TF constant get their own name so both can coexist.
    const base = variant.shape || variant.perm ? `${c.name}/${variant.perm ? 'nchw' : 'reshaped'}` : c.name;
    const name =
      t.dtype === 'float32'
        ? this.builder.addInitializer(base, 'float32', t.shape, Float32Array.from(t.data)).name
        : this.builder.addInitializer(base, 'int64', t.shape, BigInt64Array.from(Array.from(t.data, (v) => BigInt(v)))).name;
    this.constCache.set(key, name);
    return name;
  }

  int64s(base: string, values: number[], dims: number[] = [values.length]): string {
    // Shapes and axes repeat (Pack's four Unsqueezes, ...): one initializer per distinct value.
    const key = `${base}|${dims.join(',')}|${values.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const name = this.builder.addInitializer(base, 'int64', dims, BigInt64Array.from(values.map((v) => BigInt(v)))).name;
    this.constCache.set(key, name);
    return name;
  }

  floats(base: string, values: Float32Array, dims: number[]): string {
    return this.builder.addInitializer(base, 'float32', dims, values).name;
  }

  emit(op: string, inputs: string[], outputBases: string[], attrs: Record<string, AttrValue> = {}): string[] {
    return this.builder.addNode(op, inputs, outputBases, attrs);
  }
}
