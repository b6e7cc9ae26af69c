import { UnsupportedGraphError } from '../errors';
import {
  axisOf,
  concat,
  constOf,
  ints,
  reshape,
  resolveShape,
  sizeOf,
  slice,
  tile as tileConst,
  transpose as transposeConst,
} from '../tensor';
import type { TfNode } from '../tfjs-graph';
import type { ConstValue, ConvertContext, DynValue, OpMapper, Value } from '../values';
import { expectConst, expectDyn } from './expect';

/*
 * Shape-changing ops. With the input shape fixed, every shape is known while converting, so
 * constants are evaluated here and run-time tensors get ops with fully static arguments (no -1,
 * no Shape ops). Everything here works on TF's NHWC layout: NCHW tensors are transposed back first.
 */

function constResult(node: TfNode, tensor: ConstValue['tensor']): Value[] {
  return [{ kind: 'const', name: node.name, tensor }];
}

function dynResult(name: string, shape: number[]): DynValue {
  return { kind: 'dyn', name, shape, layout: 'nhwc' };
}

function reshapeTo(ctx: ConvertContext, node: TfNode, x: DynValue, shape: number[], outName = node.name): DynValue {
  const [out] = ctx.emit('Reshape', [ctx.nhwc(x), ctx.int64s(`${node.name}/shape`, shape)], [outName]);
  return dynResult(out as string, shape);
}

export const reshapeOp: OpMapper = (ctx, node, [x, s]) => {
  const target = ints(expectConst(node, s, 1).tensor);
  if (x?.kind === 'const') return constResult(node, reshape(x.tensor, target));
  const input = expectDyn(node, x, 0);
  return [reshapeTo(ctx, node, input, resolveShape(target, sizeOf(input.shape)))];
};

export const squeeze: OpMapper = (ctx, node, [x]) => {
  const shape = x?.kind === 'const' ? x.tensor.shape : expectDyn(node, x, 0).shape;
  const listed = node.ints('squeeze_dims').map((a) => axisOf(a, shape.length));
  const axes = listed.length > 0 ? listed : shape.flatMap((d, i) => (d === 1 ? [i] : []));
  const outShape = shape.filter((_, i) => !axes.includes(i));
  if (x?.kind === 'const') return constResult(node, reshape(x.tensor, outShape));
  const input = expectDyn(node, x, 0);
  const [out] = ctx.emit('Squeeze', [ctx.nhwc(input), ctx.int64s(`${node.name}/axes`, axes)], [node.name]);
  return [dynResult(out as string, outShape)];
};

export const expandDims: OpMapper = (ctx, node, [x, d]) => {
  const shape = x?.kind === 'const' ? x.tensor.shape : expectDyn(node, x, 0).shape;
  const axis = axisOf(ints(expectConst(node, d, 1).tensor)[0] ?? 0, shape.length + 1);
  const outShape = [...shape.slice(0, axis), 1, ...shape.slice(axis)];
  if (x?.kind === 'const') return constResult(node, reshape(x.tensor, outShape));
  const input = expectDyn(node, x, 0);
  const [out] = ctx.emit('Unsqueeze', [ctx.nhwc(input), ctx.int64s(`${node.name}/axes`, [axis])], [node.name]);
  return [dynResult(out as string, outShape)];
};

function shapeOf(v: Value): number[] {
  return v.kind === 'const' ? v.tensor.shape : v.shape;
}

function concatValues(ctx: ConvertContext, _node: TfNode, parts: Value[], axis: number, outName: string): Value {
  if (parts.every((p) => p.kind === 'const')) {
    return {
      kind: 'const',
      name: outName,
      tensor: concat(
        parts.map((p) => (p as ConstValue).tensor),
        axis,
      ),
    };
  }
  const first = shapeOf(parts[0] as Value);
  const outShape = [...first];
  outShape[axis] = parts.reduce((n, p) => n + (shapeOf(p)[axis] as number), 0);
  const names = parts.map((p) => (p.kind === 'const' ? ctx.constant(p) : ctx.nhwc(p)));
  const [out] = ctx.emit('Concat', names, [outName], { axis: { int: axis } });
  return dynResult(out as string, outShape);
}

/** ConcatV2: the last input is the axis. */
export const concatV2: OpMapper = (ctx, node, inputs) => {
  const parts = inputs.slice(0, -1);
  const rank = shapeOf(parts[0] as Value).length;
  const axis = axisOf(ints(expectConst(node, inputs[inputs.length - 1], inputs.length - 1).tensor)[0] ?? 0, rank);
  return [concatValues(ctx, node, parts, axis, node.name)];
};

/** Pack: stack along a new axis, i.e. expand each part then concatenate. */
export const pack: OpMapper = (ctx, node, inputs) => {
  const rank = shapeOf(inputs[0] as Value).length;
  const axis = axisOf(node.int('axis', 0), rank + 1);
  const expanded = inputs.map((v, i): Value => {
    const shape = shapeOf(v);
    const outShape = [...shape.slice(0, axis), 1, ...shape.slice(axis)];
    if (v.kind === 'const') return { kind: 'const', name: `${v.name}/expanded`, tensor: reshape(v.tensor, outShape) };
    const [out] = ctx.emit('Unsqueeze', [ctx.nhwc(v), ctx.int64s(`${node.name}/axes`, [axis])], [`${node.name}/expand_${i}`]);
    return dynResult(out as string, outShape);
  });
  return [concatValues(ctx, node, expanded, axis, node.name)];
};

/** Unpack: split along an axis into `num` parts and drop that axis. */
export const unpack: OpMapper = (ctx, node, [x]) => {
  const shape = x?.kind === 'const' ? x.tensor.shape : expectDyn(node, x, 0).shape;
  const axis = axisOf(node.int('axis', 0), shape.length);
  const num = node.int('num');
  const partShape = shape.filter((_, i) => i !== axis);
  if (x?.kind === 'const') {
    return Array.from({ length: num }, (_, k) => {
      const begin = shape.map((_, i) => (i === axis ? k : 0));
      const size = shape.map((d, i) => (i === axis ? 1 : d));
      return { kind: 'const', name: `${node.name}:${k}`, tensor: reshape(slice(x.tensor, begin, size), partShape) } as Value;
    });
  }
  const input = expectDyn(node, x, 0);
  // Opset 17 Split without a `split` input cuts equal parts, one per output.
  const parts = ctx.emit(
    'Split',
    [ctx.nhwc(input)],
    Array.from({ length: num }, (_, k) => `${node.name}/split_${k}`),
    { axis: { int: axis } },
  );
  const axes = ctx.int64s(`${node.name}/axes`, [axis]);
  return parts.map((p, k) => {
    const [out] = ctx.emit('Squeeze', [p, axes], [k === 0 ? node.name : `${node.name}:${k}`]);
    return dynResult(out as string, partShape);
  });
};

export const transposeOp: OpMapper = (ctx, node, [x, p]) => {
  const perm = ints(expectConst(node, p, 1).tensor);
  if (x?.kind === 'const') return constResult(node, transposeConst(x.tensor, perm));
  const input = expectDyn(node, x, 0);
  const [out] = ctx.emit('Transpose', [ctx.nhwc(input)], [node.name], { perm: { ints: perm } });
  return [
    dynResult(
      out as string,
      perm.map((i) => input.shape[i] as number),
    ),
  ];
};

/** TF Slice: begin and size, size -1 meaning "to the end". */
export const sliceOp: OpMapper = (ctx, node, [x, b, s]) => {
  const shape = x?.kind === 'const' ? x.tensor.shape : expectDyn(node, x, 0).shape;
  const begin = ints(expectConst(node, b, 1).tensor);
  const size = ints(expectConst(node, s, 2).tensor).map((n, i) => (n === -1 ? (shape[i] as number) - (begin[i] as number) : n));
  if (x?.kind === 'const') return constResult(node, slice(x.tensor, begin, size));
  const input = expectDyn(node, x, 0);
  const axes = shape.map((_, i) => i);
  const [out] = ctx.emit(
    'Slice',
    [
      ctx.nhwc(input),
      ctx.int64s(`${node.name}/starts`, begin),
      ctx.int64s(
        `${node.name}/ends`,
        begin.map((v, i) => v + (size[i] as number)),
      ),
      ctx.int64s(`${node.name}/axes`, axes),
    ],
    [node.name],
  );
  return [dynResult(out as string, size)];
};

/**
 * StridedSlice, for constants only (here it only ever reads a dimension out of a Shape).
 * Supports begin/end/shrink masks; ellipsis and new-axis masks are rejected.
 */
export const stridedSlice: OpMapper = (_ctx, node, [x, b, e, s]) => {
  const input = expectConst(node, x, 0);
  if (node.int('ellipsis_mask', 0) !== 0 || node.int('new_axis_mask', 0) !== 0) {
    throw new UnsupportedGraphError(`StridedSlice ${node.name}: ellipsis_mask and new_axis_mask are not supported`);
  }
  const begin = ints(expectConst(node, b, 1).tensor);
  const end = ints(expectConst(node, e, 2).tensor);
  const strides = ints(expectConst(node, s, 3).tensor);
  const shape = input.tensor.shape;
  const [beginMask, endMask, shrinkMask] = ['begin_mask', 'end_mask', 'shrink_axis_mask'].map((k) => node.int(k, 0));
  const starts: number[] = [];
  const sizes: number[] = [];
  const outShape: number[] = [];
  shape.forEach((dim, i) => {
    const stride = strides[i] ?? 1;
    if (stride !== 1) throw new UnsupportedGraphError(`StridedSlice ${node.name}: expected stride 1, got ${stride}`);
    const bit = 1 << i;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    let start = i >= begin.length || (beginMask as number) & bit ? 0 : clamp(begin[i] as number);
    let stop = i >= end.length || (endMask as number) & bit ? dim : clamp(end[i] as number);
    if ((shrinkMask as number) & bit) {
      start = clamp(begin[i] as number);
      stop = start + 1;
    } else outShape.push(Math.max(stop - start, 0));
    starts.push(start);
    sizes.push(Math.max(stop - start, 0));
  });
  return constResult(node, reshape(slice(input.tensor, starts, sizes), outShape));
};

export const tileOp: OpMapper = (ctx, node, [x, m]) => {
  const multiples = ints(expectConst(node, m, 1).tensor);
  if (x?.kind === 'const') return constResult(node, tileConst(x.tensor, multiples));
  const input = expectDyn(node, x, 0);
  const [out] = ctx.emit('Tile', [ctx.nhwc(input), ctx.int64s(`${node.name}/repeats`, multiples)], [node.name]);
  return [
    dynResult(
      out as string,
      input.shape.map((d, i) => d * (multiples[i] as number)),
    ),
  ];
};

/** Shape: static once the input size is fixed, so it becomes a constant. */
export const shapeOp: OpMapper = (_ctx, node, [x]) => {
  if (node.has('out_type') && node.type('out_type') !== 3) {
    throw new UnsupportedGraphError(`Shape ${node.name}: expected out_type int32, got DataType ${node.type('out_type')}`);
  }
  const shape = shapeOf(x as Value);
  return constResult(node, constOf('int32', [shape.length], shape));
};

/** Cast to float of a float run-time tensor is the identity (the ONNX input is float32 already). */
export const cast: OpMapper = (_ctx, node, [x]) => {
  if (x?.kind === 'const') throw new UnsupportedGraphError(`Cast ${node.name}: casting constants is not supported`);
  if (node.type('DstT') !== 1)
    throw new UnsupportedGraphError(`Cast ${node.name}: expected a cast to float32, got DataType ${node.type('DstT')}`);
  return [expectDyn(node, x, 0)];
};

export const identity: OpMapper = (_ctx, node, [x]) => {
  if (x === undefined) throw new UnsupportedGraphError(`${node.op} ${node.name}: expected 1 input`);
  return [x];
};
