/**
 * Static post-training quantization of the float ONNX model into QDQ form, in plain TypeScript on
 * the ModelProto (onnx-proto), the way onnxruntime's `quantize_static` lays it out:
 *
 * - Conv weights: per-output-channel symmetric int8 initializers (axis 0) + DequantizeLinear;
 *   biases int32 with scale x_scale * w_scale[c] + DequantizeLinear.
 * - Activations: uint8 per-tensor QuantizeLinear -> DequantizeLinear on every Conv input and every
 *   Conv output. A Conv followed by Relu6 (Clip 0..6) gets the pair after the Clip, with a range
 *   inside [0, 6], so that ORT's ClipQuantFusion drops the Clip and the QDQ selector fuses
 *   DQ -> Conv -> Q into one QLinearConv.
 * - Everything else (heads' Transposes/Reshapes, box decoding, the Sigmoid) stays float. The residual
 *   Adds are not quantized here, but their inputs and output carry Q/DQ pairs (they are Conv
 *   outputs/inputs), so ORT runs them as QLinearAdd.
 * - Biases absorb the mean shift the weights' rounding causes (bias correction, see QuantizeOptions).
 *
 * Two pure steps: `calibrationModel` (the float graph with the tensors to quantize exposed as extra
 * outputs) and `quantizeModel` (float model + observed ranges -> QDQ model bytes). The same inputs
 * give the same bytes: nodes and initializers are emitted in graph order, ranges are rounded.
 */
import onnxProto from 'onnx-proto';
import { ModelBuildError } from './errors';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IGraph = onnxProto.onnx.IGraphProto;
const DT = onnx.TensorProto.DataType;

/** Observed range of one tensor over the calibration set. */
export interface Range {
  min: number;
  max: number;
  /** Mean of each channel (NCHW axis 1) over the calibration set: enables bias correction. */
  channelMeans?: Float64Array;
}

/** What to quantize: the Convs (by node name) and the tensors that get a Q/DQ pair. */
export interface QuantPlan {
  convs: string[];
  targets: QuantTarget[];
}

/** A tensor that gets a QuantizeLinear -> DequantizeLinear pair. */
export interface QuantTarget {
  tensor: string;
  /** Produced by a Relu6 (Clip 0..6): the range is clamped to [0, 6] so the Clip can be dropped. */
  relu6: boolean;
}

export interface QuantizeOptions {
  /** Significant digits the observed ranges are rounded to, so tiny float noise cannot change the bytes. */
  rangeDigits?: number;
  /**
   * Bias correction (Nagel et al. 2019, "Data-Free Quantization", §4.2, with empirical input means):
   * add sum((W - Wq) * E[x]) to each output channel's bias, cancelling the systematic shift that
   * rounding the weights causes. Needs the inputs' channelMeans. Default true.
   */
  biasCorrection?: boolean;
}

/** sum over (input channel, kernel position) of (w - wq) * mean(input channel), per output channel. */
export function weightErrorShift(w: Float32Array, wq: Float32Array, dims: number[], group: number, inputMeans: Float64Array): Float64Array {
  const [outChannels = 0, perGroupIn = 0] = dims;
  const kernel = w.length / (outChannels * perGroupIn);
  const outPerGroup = outChannels / group;
  const shift = new Float64Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const g = Math.floor(o / outPerGroup);
    let d = 0;
    for (let i = 0; i < perGroupIn; i++) {
      const mean = inputMeans[g * perGroupIn + i] as number;
      const base = (o * perGroupIn + i) * kernel;
      for (let k = base; k < base + kernel; k++) d += ((w[k] as number) - (wq[k] as number)) * mean;
    }
    shift[o] = d;
  }
  return shift;
}

export interface TargetOptions {
  /**
   * Keep these Convs float (weights and output); their quantized inputs are dequantized for them.
   * For mixed-precision experiments: the recorded build quantizes every Conv (keeping the first or
   * the most sensitive layers float did not bring the scores closer, see models/README.md).
   */
  keepFloat?: (conv: { name: string; output: string; readers: string[] }) => boolean;
}

export interface QuantizeReport {
  convs: number;
  /** Convs whose bias was corrected for the weights' rounding. */
  corrected: number;
  activations: number;
  /** Metadata written into the model. */
  metadata: Record<string, string>;
}

function decode(bytes: Uint8Array) {
  const model = onnx.ModelProto.decode(bytes);
  if (!model.graph) throw new ModelBuildError('quantize: the model has no graph');
  return { model, graph: model.graph as IGraph & { node: INode[]; initializer: ITensor[] } };
}

function floatData(t: ITensor): Float32Array {
  if (t.dataType !== DT.FLOAT) throw new ModelBuildError(`quantize: initializer ${t.name} is not float32`);
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float32Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }
  return Float32Array.from(t.floatData ?? []);
}

function dimsOf(t: ITensor): number[] {
  return (t.dims ?? []).map((d) => Number(d));
}

/** ONNX rounds half to even (QuantizeLinear); do the same for the constants we quantize here. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function rawOf(dtype: number, values: ArrayLike<number>): Uint8Array {
  if (dtype === DT.FLOAT) {
    const out = new Uint8Array(values.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
    return out;
  }
  if (dtype === DT.INT32) {
    const out = new Uint8Array(values.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i] as number, true);
    return out;
  }
  if (dtype === DT.INT8) return new Uint8Array(Int8Array.from(values).buffer);
  if (dtype === DT.UINT8) return Uint8Array.from(values);
  throw new ModelBuildError(`quantize: no writer for data type ${dtype}`);
}

function tensor(name: string, dtype: number, dims: number[], values: ArrayLike<number>): ITensor {
  return { name, dataType: dtype, dims, rawData: rawOf(dtype, values) };
}

function consumersOf(nodes: INode[]): Map<string, INode[]> {
  const out = new Map<string, INode[]>();
  for (const n of nodes) for (const i of n.input ?? []) if (i) out.set(i, [...(out.get(i) ?? []), n]);
  return out;
}

/** Clip with constant bounds 0 and 6 (TF's Relu6 as the converter writes it). */
function isRelu6(node: INode, inits: Map<string, ITensor>): boolean {
  if (node.opType !== 'Clip') return false;
  const [, lo, hi] = node.input ?? [];
  const lower = lo ? inits.get(lo) : undefined;
  const upper = hi ? inits.get(hi) : undefined;
  return !!lower && !!upper && floatData(lower)[0] === 0 && floatData(upper)[0] === 6;
}

/**
 * Which tensors get a Q/DQ pair: each Conv's data input, and each Conv's output, taken after the
 * Relu6 when the Conv's only reader is one. In graph order, without repeats.
 */
export function quantPlan(modelBytes: Uint8Array, opts: TargetOptions = {}): QuantPlan {
  const { graph } = decode(modelBytes);
  const inits = new Map(graph.initializer.map((t) => [t.name ?? '', t]));
  const consumers = consumersOf(graph.node);
  const seen = new Map<string, QuantTarget>();
  const convs: string[] = [];
  const add = (tensor: string, relu6: boolean) => {
    if (!seen.has(tensor)) seen.set(tensor, { tensor, relu6 });
  };
  const producer = new Map<string, INode>();
  for (const n of graph.node) for (const o of n.output ?? []) producer.set(o, n);
  for (const n of graph.node) {
    if (n.opType !== 'Conv') continue;
    const y0 = n.output?.[0] ?? '';
    const readerOps = (consumers.get(y0) ?? []).map((r) => r.opType ?? '');
    if (opts.keepFloat?.({ name: n.name ?? '', output: y0, readers: readerOps })) continue;
    convs.push(n.name ?? '');
    const x = n.input?.[0] ?? '';
    const p = producer.get(x);
    add(x, !!p && isRelu6(p, inits));
    const y = n.output?.[0] ?? '';
    const readers = consumers.get(y) ?? [];
    const only = readers.length === 1 ? readers[0] : undefined;
    if (only && isRelu6(only, inits)) add(only.output?.[0] ?? '', true);
    else add(y, false);
  }
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  return { convs, targets: [...seen.values()].filter((t) => t.tensor !== '' && !outputs.has(t.tensor)) };
}

/** The float model with every target tensor also exposed as a graph output (for calibration). */
export function calibrationModel(modelBytes: Uint8Array, targets: QuantTarget[]): Uint8Array {
  const { model, graph } = decode(modelBytes);
  graph.output = [...(graph.output ?? []), ...targets.map((t) => ({ name: t.tensor, type: { tensorType: { elemType: DT.FLOAT } } }))];
  return onnx.ModelProto.encode(model).finish();
}

function roundTo(x: number, digits: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(digits));
}

/** uint8 asymmetric parameters for a range (widened to include 0, as QuantizeLinear needs). */
export function activationParams(range: Range, relu6: boolean, digits = 5): { scale: number; zeroPoint: number } {
  let lo = Math.min(0, roundTo(range.min, digits));
  let hi = Math.max(0, roundTo(range.max, digits));
  if (relu6) {
    lo = 0;
    hi = Math.min(hi, 6);
  }
  if (hi - lo < 1e-6) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.min(255, Math.max(0, roundHalfEven(-lo / scale)));
  return { scale, zeroPoint };
}

/** Per-output-channel symmetric int8 weights (axis 0), range -127..127. */
export function quantizeWeights(w: Float32Array, channels: number): { q: Int8Array; scales: Float32Array } {
  const per = w.length / channels;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let absMax = 0;
    for (let i = c * per; i < (c + 1) * per; i++) absMax = Math.max(absMax, Math.abs(w[i] as number));
    const scale = Math.fround(absMax > 0 ? absMax / 127 : 1);
    scales[c] = scale;
    for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, roundHalfEven((w[i] as number) / scale)));
  }
  return { q, scales };
}

/** Rewrites the float model into QDQ form with the given activation ranges (one per target). */
export function quantizeModel(
  modelBytes: Uint8Array,
  { convs: convNames, targets }: QuantPlan,
  ranges: Map<string, Range>,
  opts: QuantizeOptions & { metadata?: Record<string, string> } = {},
): { bytes: Uint8Array; report: QuantizeReport } {
  const digits = opts.rangeDigits ?? 5;
  const quantConvs = new Set(convNames);
  let corrected = 0;
  const { model, graph } = decode(modelBytes);
  const inits = new Map(graph.initializer.map((t) => [t.name ?? '', t]));
  const newInits: ITensor[] = [];
  const nodes: INode[] = [];
  const params = new Map<string, { scale: string; zeroPoint: string; value: { scale: number; zeroPoint: number } }>();

  // Activation parameters, one scale/zero-point pair per target.
  for (const t of targets) {
    const range = ranges.get(t.tensor);
    if (!range) throw new ModelBuildError(`quantize: no calibration range for ${t.tensor}`);
    const value = activationParams(range, t.relu6, digits);
    const scale = `${t.tensor}/q/scale`;
    const zeroPoint = `${t.tensor}/q/zero_point`;
    newInits.push(tensor(scale, DT.FLOAT, [], [value.scale]), tensor(zeroPoint, DT.UINT8, [], [value.zeroPoint]));
    params.set(t.tensor, { scale, zeroPoint, value });
  }

  // Every reader of a target tensor gets its own DequantizeLinear (what ORT's selectors expect).
  const dqCount = new Map<string, number>();
  const dqFor = (name: string): string => {
    const p = params.get(name);
    if (!p) return name;
    const k = dqCount.get(name) ?? 0;
    dqCount.set(name, k + 1);
    const out = `${name}/dq${k}`;
    nodes.push({ name: out, opType: 'DequantizeLinear', input: [`${name}/q`, p.scale, p.zeroPoint], output: [out] });
    return out;
  };
  const emitQ = (name: string) => {
    const p = params.get(name);
    if (p) nodes.push({ name: `${name}/q`, opType: 'QuantizeLinear', input: [name, p.scale, p.zeroPoint], output: [`${name}/q`] });
  };

  const inputs = new Set((graph.input ?? []).map((i) => i.name));
  for (const t of targets) if (inputs.has(t.tensor)) emitQ(t.tensor);

  const used = new Map<string, number>();
  for (const n of graph.node) for (const i of n.input ?? []) used.set(i, (used.get(i) ?? 0) + 1);
  const dropped = new Set<string>();
  let convs = 0;

  for (const n of graph.node) {
    const ins = [...(n.input ?? [])];
    if (n.opType === 'Conv') {
      const [x = '', w = '', b = ''] = ins;
      const xp = params.get(x);
      const wt = inits.get(w);
      // A Conv kept float: its quantized inputs are dequantized for it, its weights stay float.
      if (!quantConvs.has(n.name ?? '')) {
        nodes.push({ ...n, input: ins.map((i) => dqFor(i)) });
        for (const o of n.output ?? []) emitQ(o);
        continue;
      }
      if (!xp || !wt) throw new ModelBuildError(`quantize: Conv ${n.name} has no activation parameters or constant weights`);
      const dims = dimsOf(wt);
      const channels = dims[0] ?? 0;
      const wf = floatData(wt);
      const { q, scales } = quantizeWeights(wf, channels);
      newInits.push(
        tensor(`${w}/quantized`, DT.INT8, dims, q),
        tensor(`${w}/scale`, DT.FLOAT, [channels], scales),
        tensor(`${w}/zero_point`, DT.INT8, [channels], new Int8Array(channels)),
      );
      nodes.push({
        name: `${w}/dq`,
        opType: 'DequantizeLinear',
        input: [`${w}/quantized`, `${w}/scale`, `${w}/zero_point`],
        output: [`${w}/dq`],
        attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      });
      ins[1] = `${w}/dq`;
      if (used.get(w) === 1) dropped.add(w);
      const bt = b ? inits.get(b) : undefined;
      if (bt) {
        const bias = floatData(bt);
        const means = ranges.get(x)?.channelMeans;
        if ((opts.biasCorrection ?? true) && means) {
          const per = wf.length / channels;
          const wq = Float32Array.from(q, (v, i) => v * (scales[Math.floor(i / per)] as number));
          const group = Number(n.attribute?.find((a) => a.name === 'group')?.i ?? 1);
          const shift = weightErrorShift(wf, wq, dims, group, means);
          for (let c = 0; c < channels; c++) bias[c] = (bias[c] as number) + (shift[c] as number);
          corrected++;
        }
        const bScales = Float32Array.from(scales, (s) => Math.fround(xp.value.scale * s));
        const bq = Int32Array.from(bias, (v, c) => roundHalfEven(v / (bScales[c] as number)));
        newInits.push(
          tensor(`${b}/quantized`, DT.INT32, [channels], bq),
          tensor(`${b}/scale`, DT.FLOAT, [channels], bScales),
          tensor(`${b}/zero_point`, DT.INT32, [channels], new Int32Array(channels)),
        );
        nodes.push({
          name: `${b}/dq`,
          opType: 'DequantizeLinear',
          input: [`${b}/quantized`, `${b}/scale`, `${b}/zero_point`],
          output: [`${b}/dq`],
          attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
        });
        ins[2] = `${b}/dq`;
        if (used.get(b) === 1) dropped.add(b);
      }
      convs++;
    }
    nodes.push({ ...n, input: ins.map((i) => dqFor(i)) });
    for (const o of n.output ?? []) emitQ(o);
  }

  graph.node = nodes as typeof graph.node;
  graph.initializer = [...graph.initializer.filter((t) => !dropped.has(t.name ?? '')), ...newInits] as typeof graph.initializer;
  const metadata = {
    quantization:
      'static QDQ: Conv weights int8 per-channel symmetric, activations uint8 per-tensor (min/max calibration)' +
      (corrected > 0 ? ', biases corrected for weight rounding (empirical input means)' : ''),
    ...(opts.metadata ?? {}),
  };
  model.metadataProps = [...(model.metadataProps ?? []), ...Object.entries(metadata).map(([key, value]) => ({ key, value }))];
  model.producerName = 'image-pipeline models/quantize.ts';
  return { bytes: onnx.ModelProto.encode(model).finish(), report: { convs, corrected, activations: targets.length, metadata } };
}
