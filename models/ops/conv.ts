import { UnsupportedGraphError } from '../errors';
import { constOf, transpose } from '../tensor';
import type { TfNode } from '../tfjs-graph';
import type { ConstValue, ConvertContext, DynValue, OpMapper, Value } from '../values';
import { applyPerChannel } from './elementwise';
import { expectConst, expectDyn } from './expect';

/**
 * TF's SAME/VALID padding as explicit ONNX pads. TF puts the odd pixel at the end, which is what
 * ONNX's SAME_UPPER does too; explicit pads just make the model say it without relying on auto_pad.
 */
function spatial(
  node: TfNode,
  input: number,
  kernel: number,
  stride: number,
  dilation: number,
): { out: number; begin: number; end: number } {
  const padding = node.str('padding');
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'VALID') return { out: Math.ceil((input - span + 1) / stride), begin: 0, end: 0 };
  if (padding !== 'SAME') throw new UnsupportedGraphError(`${node.op} ${node.name}: expected padding SAME or VALID, got ${padding}`);
  const out = Math.ceil(input / stride);
  const total = Math.max((out - 1) * stride + span - input, 0);
  const begin = Math.floor(total / 2);
  return { out, begin, end: total - begin };
}

/** Shared by Conv2D and DepthwiseConv2dNative once the weights are OIHW. */
function emitConv(ctx: ConvertContext, node: TfNode, x: DynValue, weight: Float32Array, oihw: number[], group: number): DynValue {
  if (node.str('data_format') !== 'NHWC')
    throw new UnsupportedGraphError(`${node.op} ${node.name}: expected data_format NHWC, got ${node.str('data_format')}`);
  const [, sh = 1, sw = 1] = node.ints('strides');
  const dil = node.has('dilations') ? node.ints('dilations') : [1, 1, 1, 1];
  const [, dh = 1, dw = 1] = dil;
  const [outChannels = 0, , kh = 1, kw = 1] = oihw;
  const [n = 1, h = 0, w = 0] = x.shape;
  const ph = spatial(node, h, kh, sh, dh);
  const pw = spatial(node, w, kw, sw, dw);

  // The bias starts at zero: it exists so that batch-norm shifts have somewhere to be folded to.
  const bias = new Float32Array(outChannels);
  const [out] = ctx.emit(
    'Conv',
    [ctx.nchw(x), ctx.floats(`${node.name}/weights`, weight, oihw), ctx.floats(`${node.name}/bias`, bias, [outChannels])],
    [node.name],
    {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [sh, sw] },
      dilations: { ints: [dh, dw] },
      pads: { ints: [ph.begin, pw.begin, ph.end, pw.end] },
      group: { int: group },
    },
  );
  const value: DynValue = {
    kind: 'dyn',
    name: out as string,
    shape: [n, ph.out, pw.out, outChannels],
    layout: 'nchw',
    fold: ctx.options.foldBatchNorm ? { conv: { weight, bias, outChannels }, canScale: true } : undefined,
  };
  // Without an NCHW body, go straight back to TF's layout (a transpose pair around every Conv).
  // Folding stays exact either way: a transpose never mixes channels.
  return ctx.options.nchwBody ? value : { ...value, name: ctx.nhwc(value), layout: 'nhwc' };
}

/** Conv2D: TF weights are HWIO, ONNX wants OIHW. */
export const conv2d: OpMapper = (ctx, node, [x, w]) => {
  const input = expectDyn(node, x, 0);
  const weights = expectConst(node, w, 1).tensor;
  const oihw = transpose(weights, [3, 2, 0, 1]);
  return [emitConv(ctx, node, input, oihw.data as Float32Array, oihw.shape, 1)];
};

/**
 * DepthwiseConv2dNative: TF weights are [H, W, C, M] and output channel c*M+m reads input channel c;
 * ONNX grouped Conv with group=C and weights [C*M, 1, H, W] orders its outputs the same way.
 */
export const depthwiseConv2d: OpMapper = (ctx, node, [x, w]) => {
  const input = expectDyn(node, x, 0);
  const weights = expectConst(node, w, 1).tensor;
  const [kh = 1, kw = 1, c = 1, m = 1] = weights.shape;
  const cmhw = transpose(weights, [2, 3, 0, 1]);
  return [emitConv(ctx, node, input, cmhw.data as Float32Array, [c * m, 1, kh, kw], c)];
};

/**
 * FusedBatchNorm in inference mode is a per-channel scale and shift:
 * y = x * gamma / sqrt(var + eps) + (beta - mean * gamma / sqrt(var + eps)).
 */
export const fusedBatchNorm: OpMapper = (ctx, node, inputs) => {
  if (node.bool('is_training', false)) throw new UnsupportedGraphError(`FusedBatchNorm ${node.name}: expected is_training false`);
  const x = expectDyn(node, inputs[0], 0);
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => expectConst(node, inputs[i], i).tensor.data);
  const eps = node.float('epsilon', 1e-3);
  const channels = gamma?.length ?? 0;
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let i = 0; i < channels; i++) {
    scale[i] = (gamma?.[i] ?? 0) / Math.sqrt((variance?.[i] ?? 0) + eps);
    shift[i] = (beta?.[i] ?? 0) - (mean?.[i] ?? 0) * (scale[i] as number);
  }
  const s: ConstValue = { kind: 'const', name: `${node.name}/scale`, tensor: constOf('float32', [channels], scale) };
  const b: ConstValue = { kind: 'const', name: `${node.name}/shift`, tensor: constOf('float32', [channels], shift) };
  const scaled = applyPerChannel(ctx, `${node.name}/mul`, 'Mul', x, s);
  const out: Value = applyPerChannel(ctx, node.name, 'Add', scaled, b);
  return [out];
};
