import type { AttrValue } from './onnx-builder';
import type { ConstTensor } from './tensor';

/**
 * Where the weights of an emitted Conv live. Kept as live arrays so a following per-channel Mul
 * or Add can be folded into them instead of becoming an op (batch-norm folding).
 */
export interface ConvWeights {
  /** OIHW, float32. */
  weight: Float32Array;
  bias: Float32Array;
  outChannels: number;
}

/**
 * What may still be folded into a value's producing Conv: a per-channel scale only when the value
 * is that Conv's output as-is; a per-channel shift also through sums (c + (conv + x) = (conv + c) + x).
 */
export interface Foldable {
  conv: ConvWeights;
  canScale: boolean;
}

export type Layout = 'nhwc' | 'nchw';

/** A tensor computed at run time. `shape` is always TF's logical (NHWC) shape; `layout` says how it is stored. */
export interface DynValue {
  kind: 'dyn';
  name: string;
  shape: number[];
  layout: Layout;
  fold?: Foldable;
}

/** A tensor known at conversion time (weights, shape arithmetic, anchors). */
export interface ConstValue {
  kind: 'const';
  tensor: ConstTensor;
  /** TF name, used to name the initializer if it has to become one. */
  name: string;
}

export type Value = DynValue | ConstValue;

export interface ConvertOptions {
  /** Keep 4-D activations NCHW between convolutions (else every Conv is wrapped in transposes). */
  nchwBody: boolean;
  /** Fold per-channel Mul/Add (batch norm, bias) into the preceding Conv's weights and bias. */
  foldBatchNorm: boolean;
}

/** What an op mapper may do: read options, emit nodes, turn constants into initializers. */
export interface ConvertContext {
  readonly options: ConvertOptions;
  /** ONNX name of `v` stored NHWC (TF's layout), adding a Transpose once if needed. */
  nhwc(v: DynValue): string;
  /** ONNX name of a 4-D `v` stored NCHW, adding a Transpose once if needed. */
  nchw(v: DynValue): string;
  /** ONNX name of an initializer holding `c` (int32 becomes int64, ONNX's index type). */
  constant(c: ConstValue, variant?: { shape?: number[]; perm?: number[] }): string;
  /** An int64 initializer for indices/shapes/axes. */
  int64s(base: string, values: number[], dims?: number[]): string;
  /** A float32 scalar/array initializer. */
  floats(base: string, values: Float32Array, dims: number[]): string;
  /** Emits one node and returns its output names. */
  emit(op: string, inputs: string[], outputBases: string[], attrs?: Record<string, AttrValue>): string[];
}

export type OpMapper = (ctx: ConvertContext, node: import('./tfjs-graph').TfNode, inputs: Value[]) => Value[];
