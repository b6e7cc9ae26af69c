import { UnsupportedGraphError } from './errors';

/**
 * A tensor whose value is known while converting. Shape arithmetic and the anchor constants are
 * evaluated here, in plain JS, so the ONNX graph carries results instead of the ops that made them.
 */
export interface ConstTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = (strides[i + 1] as number) * (shape[i + 1] as number);
  return strides;
}

function alloc(dtype: ConstTensor['dtype'], n: number): Float32Array | Int32Array {
  return dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
}

export function constOf(dtype: ConstTensor['dtype'], shape: number[], values: ArrayLike<number>): ConstTensor {
  const data = alloc(dtype, values.length);
  data.set(Array.from(values));
  return { dtype, shape, data };
}

/** Values as plain numbers, for shapes, axes and the like. */
export function ints(t: ConstTensor): number[] {
  return Array.from(t.data);
}

/** Visits every multi-index of `shape` in row-major order. */
function forEachIndex(shape: readonly number[], visit: (idx: number[], flat: number) => void): void {
  const n = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    visit(idx, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (shape[d] as number)) break;
      idx[d] = 0;
    }
  }
}

/** NumPy broadcasting of two shapes (TF and ONNX agree on it). */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new UnsupportedGraphError(`cannot broadcast [${a}] with [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element-wise op with broadcasting; float32 results are rounded to float32 as TF would. */
export function binary(a: ConstTensor, b: ConstTensor, fn: (x: number, y: number) => number): ConstTensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const out = alloc(a.dtype, sizeOf(shape));
  const sa = stridesOf(a.shape);
  const sb = stridesOf(b.shape);
  forEachIndex(shape, (idx, flat) => {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < shape.length; d++) {
      const i = idx[d] as number;
      const da = d - (shape.length - a.shape.length);
      const db = d - (shape.length - b.shape.length);
      if (da >= 0 && a.shape[da] !== 1) ia += i * (sa[da] as number);
      if (db >= 0 && b.shape[db] !== 1) ib += i * (sb[db] as number);
    }
    out[flat] = fn(a.data[ia] as number, b.data[ib] as number);
  });
  return { dtype: a.dtype, shape, data: out };
}

/** Resolves a TF/ONNX reshape target (one -1 allowed) against the element count. */
export function resolveShape(target: readonly number[], size: number): number[] {
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const out = target.map((d) => (d === -1 ? size / known : d));
  if (sizeOf(out) !== size) throw new UnsupportedGraphError(`cannot reshape ${size} elements to [${target}]`);
  return out;
}

export function reshape(t: ConstTensor, shape: readonly number[]): ConstTensor {
  return { ...t, shape: resolveShape(shape, t.data.length) };
}

export function transpose(t: ConstTensor, perm: readonly number[]): ConstTensor {
  const shape = perm.map((p) => t.shape[p] as number);
  const src = stridesOf(t.shape);
  const out = alloc(t.dtype, t.data.length);
  forEachIndex(shape, (idx, flat) => {
    let s = 0;
    for (let d = 0; d < perm.length; d++) s += (idx[d] as number) * (src[perm[d] as number] as number);
    out[flat] = t.data[s] as number;
  });
  return { dtype: t.dtype, shape, data: out };
}

/** N-D slice with explicit begin and size (no -1 here; callers resolve it). */
export function slice(t: ConstTensor, begin: readonly number[], size: readonly number[]): ConstTensor {
  const src = stridesOf(t.shape);
  const out = alloc(t.dtype, sizeOf(size));
  forEachIndex(size, (idx, flat) => {
    let s = 0;
    for (let d = 0; d < size.length; d++) s += ((idx[d] as number) + (begin[d] as number)) * (src[d] as number);
    out[flat] = t.data[s] as number;
  });
  return { dtype: t.dtype, shape: [...size], data: out };
}

export function concat(ts: readonly ConstTensor[], axis: number): ConstTensor {
  const first = ts[0];
  if (first === undefined) throw new UnsupportedGraphError('concat of nothing');
  // Moving the axis to the front makes concatenation a plain append of the buffers.
  const perm = [axis, ...first.shape.map((_, i) => i).filter((i) => i !== axis)];
  const inverse = perm.map((_, i) => perm.indexOf(i));
  const parts = ts.map((t) => transpose(t, perm));
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const data = alloc(first.dtype, total);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  const shape = [...(parts[0] as ConstTensor).shape];
  shape[0] = parts.reduce((n, p) => n + (p.shape[0] as number), 0);
  return transpose({ dtype: first.dtype, shape, data }, inverse);
}

export function tile(t: ConstTensor, multiples: readonly number[]): ConstTensor {
  const shape = t.shape.map((d, i) => d * (multiples[i] as number));
  const src = stridesOf(t.shape);
  const out = alloc(t.dtype, sizeOf(shape));
  forEachIndex(shape, (idx, flat) => {
    let s = 0;
    for (let d = 0; d < shape.length; d++) s += ((idx[d] as number) % (t.shape[d] as number)) * (src[d] as number);
    out[flat] = t.data[s] as number;
  });
  return { dtype: t.dtype, shape, data: out };
}

/** Normalises a possibly negative axis against a rank. */
export function axisOf(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
