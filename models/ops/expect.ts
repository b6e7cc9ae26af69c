import { UnsupportedGraphError } from '../errors';
import type { TfNode } from '../tfjs-graph';
import type { ConstValue, DynValue, Value } from '../values';

/** Input `i` must be known at conversion time (weights, shapes, axes). */
export function expectConst(node: TfNode, v: Value | undefined, i: number): ConstValue {
  if (v?.kind !== 'const')
    throw new UnsupportedGraphError(`${node.op} ${node.name}: expected input ${i} to be constant, got ${v?.kind ?? 'nothing'}`);
  return v;
}

/** Input `i` must be a run-time tensor. */
export function expectDyn(node: TfNode, v: Value | undefined, i: number): DynValue {
  if (v?.kind !== 'dyn')
    throw new UnsupportedGraphError(`${node.op} ${node.name}: expected input ${i} to be computed at run time, got ${v?.kind ?? 'nothing'}`);
  return v;
}
