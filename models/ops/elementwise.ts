import { UnsupportedGraphError } from '../errors';
import { binary, broadcastShapes, constOf } from '../tensor';
import type { TfNode } from '../tfjs-graph';
import type { ConstValue, ConvertContext, DynValue, Foldable, OpMapper, Value } from '../values';

type BinaryOp = 'Add' | 'Sub' | 'Mul';

const EVAL: Record<BinaryOp, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
};

/**
 * The per-output-channel vector a constant amounts to against `x` (whose channels are its last
 * logical dim), or undefined when the constant varies along any other axis.
 */
function perChannel(c: ConstValue, x: DynValue): Float32Array | undefined {
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const t = c.tensor;
  if (t.dtype !== 'float32' || t.shape.length > x.shape.length) return undefined;
  if (t.shape.slice(0, -1).some((d) => d !== 1)) return undefined;
  const last = t.shape[t.shape.length - 1] ?? 1;
  if (last === channels) return Float32Array.from(t.data);
  if (last === 1) return new Float32Array(channels).fill(t.data[0] as number);
  return undefined;
}

/**
 * Folds `x op c` into the Conv that produced `x`, when that is exact: a scale into weights and
 * bias, a shift into the bias. Returns the same run-time tensor (the Conv now computes the result).
 */
function tryFold(op: BinaryOp, x: DynValue, c: ConstValue, constOnLeft: boolean): DynValue | undefined {
  const fold: Foldable | undefined = x.fold;
  if (fold === undefined) return undefined;
  const v = perChannel(c, x);
  if (v === undefined || v.length !== fold.conv.outChannels) return undefined;
  const { weight, bias, outChannels } = fold.conv;
  if (op === 'Mul') {
    if (!fold.canScale) return undefined;
    const per = weight.length / outChannels;
    for (let o = 0; o < outChannels; o++) {
      const s = v[o] as number;
      for (let k = o * per; k < (o + 1) * per; k++) weight[k] = (weight[k] as number) * s;
      bias[o] = (bias[o] as number) * s;
    }
    return x;
  }
  if (op === 'Sub' && constOnLeft) return undefined; // c - x flips the sign of x: not a shift
  const sign = op === 'Sub' ? -1 : 1;
  for (let o = 0; o < outChannels; o++) bias[o] = (bias[o] as number) + sign * (v[o] as number);
  return x;
}

/**
 * Emits an element-wise node. 4-D tensors kept NCHW stay NCHW: constants are laid out to match
 * (padded to rank 4 and permuted), so broadcasting means what it meant in TF's NHWC.
 */
function emitBinary(ctx: ConvertContext, name: string, op: string, operands: Value[]): DynValue {
  const dyns = operands.filter((v): v is DynValue => v.kind === 'dyn');
  const nchw = dyns.some((v) => v.layout === 'nchw');
  const shape = operands.map((v) => (v.kind === 'dyn' ? v.shape : v.tensor.shape)).reduce((a, b) => broadcastShapes(a, b));
  const names = operands.map((v) => {
    if (v.kind === 'dyn') {
      if (nchw && v.shape.length !== 4)
        throw new UnsupportedGraphError(`${op} ${name}: cannot mix a ${v.shape.length}-D tensor with NCHW ones`);
      return nchw ? ctx.nchw(v) : ctx.nhwc(v);
    }
    if (!nchw) return ctx.constant(v);
    const padded = [...new Array<number>(4 - v.tensor.shape.length).fill(1), ...v.tensor.shape];
    return ctx.constant(v, { shape: padded, perm: [0, 3, 1, 2] });
  });
  const [out] = ctx.emit(op, names, [name]);
  return { kind: 'dyn', name: out as string, shape, layout: nchw ? 'nchw' : 'nhwc' };
}

/** `x op c` for a per-channel constant: folded into the Conv when possible, else an op. */
export function applyPerChannel(ctx: ConvertContext, name: string, op: 'Mul' | 'Add', x: DynValue, c: ConstValue): DynValue {
  return tryFold(op, x, c, false) ?? emitBinary(ctx, name, op, [x, c]);
}

function binaryOp(op: BinaryOp): OpMapper {
  return (ctx, node, [a, b]) => {
    if (a === undefined || b === undefined) throw new UnsupportedGraphError(`${node.op} ${node.name}: expected 2 inputs`);
    if (a.kind === 'const' && b.kind === 'const') {
      return [{ kind: 'const', name: node.name, tensor: binary(a.tensor, b.tensor, EVAL[op]) }];
    }
    if (a.kind === 'dyn' && b.kind === 'const') {
      const folded = tryFold(op, a, b, false);
      if (folded) return [folded];
    }
    if (a.kind === 'const' && b.kind === 'dyn' && op !== 'Sub') {
      const folded = tryFold(op, b, a, true);
      if (folded) return [folded];
    }
    const out = emitBinary(ctx, node.name, op, [a, b]);
    // A per-channel constant added to this sum later can still go into a summand Conv's bias.
    if (op === 'Add') out.fold = sumFold([a, b]);
    return [out];
  };
}

function sumFold(operands: Value[]): Foldable | undefined {
  for (const v of operands) if (v.kind === 'dyn' && v.fold) return { conv: v.fold.conv, canScale: false };
  return undefined;
}

export const add = binaryOp('Add');
export const sub = binaryOp('Sub');
export const mul = binaryOp('Mul');

/** BiasAdd is an Add of a channel vector (NHWC only; we reject NCHW TF graphs at the Conv). */
export const biasAdd: OpMapper = (ctx, node, inputs) => {
  if (node.has('data_format') && node.str('data_format') !== 'NHWC') {
    throw new UnsupportedGraphError(`BiasAdd ${node.name}: expected data_format NHWC, got ${node.str('data_format')}`);
  }
  return add(ctx, node, inputs);
};

/** AddN of run-time tensors: one Add for two, Sum for more. */
export const addN: OpMapper = (ctx, node, inputs) => {
  const out = emitBinary(ctx, node.name, inputs.length === 2 ? 'Add' : 'Sum', inputs);
  out.fold = sumFold(inputs);
  return [out];
};

function unary(op: string, extra: (ctx: ConvertContext) => string[] = () => []): OpMapper {
  return (ctx, node: TfNode, [x]) => {
    if (x?.kind !== 'dyn') throw new UnsupportedGraphError(`${node.op} ${node.name}: expected a run-time input`);
    // Element-wise: works in whatever layout the input is stored in.
    const input = x.layout === 'nchw' ? ctx.nchw(x) : ctx.nhwc(x);
    const [out] = ctx.emit(op, [input, ...extra(ctx)], [node.name]);
    return [{ kind: 'dyn', name: out as string, shape: x.shape, layout: x.layout }];
  };
}

/** Relu6 is Clip(0, 6); ONNX Runtime fuses Conv + Clip. */
const RELU6_MIN: ConstValue = { kind: 'const', name: 'relu6/min', tensor: constOf('float32', [], [0]) };
const RELU6_MAX: ConstValue = { kind: 'const', name: 'relu6/max', tensor: constOf('float32', [], [6]) };
export const relu6 = unary('Clip', (ctx) => [ctx.constant(RELU6_MIN), ctx.constant(RELU6_MAX)]);
export const sigmoid = unary('Sigmoid');
export const exp = unary('Exp');
