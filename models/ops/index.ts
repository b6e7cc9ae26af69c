import type { OpMapper } from '../values';
import { conv2d, depthwiseConv2d, fusedBatchNorm } from './conv';
import { add, addN, biasAdd, exp, mul, relu6, sigmoid, sub } from './elementwise';
import {
  cast,
  concatV2,
  expandDims,
  identity,
  pack,
  reshapeOp,
  shapeOp,
  sliceOp,
  squeeze,
  stridedSlice,
  tileOp,
  transposeOp,
  unpack,
} from './shape';

/** TF op name -> mapper. An op missing here stops the conversion with its name and node. */
export const OP_MAPPERS: Readonly<Record<string, OpMapper>> = {
  Conv2D: conv2d,
  DepthwiseConv2dNative: depthwiseConv2d,
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
  BiasAdd: biasAdd,
  Add: add,
  AddV2: add,
  AddN: addN,
  Sub: sub,
  Mul: mul,
  Relu6: relu6,
  Sigmoid: sigmoid,
  Exp: exp,
  Reshape: reshapeOp,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  ConcatV2: concatV2,
  Pack: pack,
  Unpack: unpack,
  Transpose: transposeOp,
  Slice: sliceOp,
  StridedSlice: stridedSlice,
  Tile: tileOp,
  Shape: shapeOp,
  Cast: cast,
  Identity: identity,
};
