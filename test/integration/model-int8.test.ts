/**
 * The int8 (QDQ) model, an option beside the float default (models/quantize.ts, models/defaultModel.ts):
 * it builds to the same bytes every time and to the recorded ones, onnxruntime fuses every Conv into a
 * QLinearConv, and its drift against the reference on the evaluation photos is what models/README.md
 * states: it finds every reference object and adds none, but moves scores by up to 0.064 (a couch the
 * reference scores 0.585 falls to 0.521), more than the 0.02 the default is held to
 * (models/faithfulness.ts). Should a change make it hold that contract, this test says so: the
 * default can then be revisited (src/detect/modelPath.ts).
 *
 * The calibration photos are neither the fixtures nor the evaluation photos (models/calibration-photos.json:
 * natural photos from Debian's opencv-doc; test/unit/photo-sets.test.ts checks the hashes).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { ensureInt8Model, quantizedBytes, readInt8Record } from '../../models/build-int8';
import { ensureEvaluationPhotos, readEvaluationReference } from '../../models/evaluation';
import { describeJudgement, holds, judge } from '../../models/faithfulness';
import { readRecord } from '../../models/record';
import { detect } from '../../src/detect/Detector';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;

let modelPath: string;
before(async () => {
  modelPath = await ensureInt8Model();
});

describe('int8 model build', () => {
  it('builds to the same bytes twice, and to the bytes the record holds', async () => {
    // Act
    const first = await quantizedBytes();
    const second = await quantizedBytes();
    // Assess
    assert.equal(second.section.sha256, first.section.sha256, 'two builds differ');
    assert.deepEqual(Buffer.from(second.bytes), Buffer.from(first.bytes));
    const recorded = readInt8Record();
    assert.equal(
      first.section.sha256,
      recorded?.sha256,
      'differs from models/ssdlite_mobilenet_v2_coco.json: run npm run build:model -- --int8',
    );
    assert.equal(first.section.bytes, recorded?.bytes);
    assert.equal(recorded?.from, readRecord().onnx.sha256, 'the int8 record was made from another float model');
    assert.equal(createHash('sha256').update(readFileSync(modelPath)).digest('hex'), recorded?.sha256);
  });

  it('keeps the contract and the float tail: int8 Conv weights, int32 biases, Sigmoid and box decoding in float', () => {
    const record = readRecord();
    const model = onnx.ModelProto.decode(readFileSync(modelPath));
    const graph = model.graph as InstanceType<typeof onnx.GraphProto>;
    assert.deepEqual(
      graph.input.map((i) => i.name),
      record.onnx.inputs.map((i) => i.name),
    );
    assert.deepEqual(
      graph.output.map((o) => o.name),
      record.onnx.outputs.map((o) => o.name),
    );

    const producer = new Map(graph.node.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
    const inits = new Map(graph.initializer.map((t) => [t.name, t]));
    const convs = graph.node.filter((n) => n.opType === 'Conv');
    assert.equal(convs.length, 88);
    for (const conv of convs) {
      const [x = '', w = '', b = ''] = conv.input ?? [];
      assert.equal(producer.get(x)?.opType, 'DequantizeLinear', `${conv.name}: input not dequantized`);
      const wdq = producer.get(w);
      assert.equal(wdq?.opType, 'DequantizeLinear', `${conv.name}: weights not dequantized`);
      assert.equal(inits.get(wdq?.input?.[0] ?? '')?.dataType, DT.INT8, `${conv.name}: weights not int8`);
      assert.equal(inits.get(producer.get(b)?.input?.[0] ?? '')?.dataType, DT.INT32, `${conv.name}: bias not int32`);
    }
    // Walking back from the outputs, everything up to the heads' last DequantizeLinear is float:
    // the reshapes and concats, box decoding (Exp) and the Sigmoid.
    const tail = new Set<string>();
    const stops = new Set<string>();
    const todo = graph.output.map((o) => o.name ?? '');
    for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
      const n = producer.get(name);
      if (!n || tail.has(n.name ?? '') || stops.has(n.name ?? '')) continue;
      if (n.opType === 'DequantizeLinear') {
        stops.add(n.name ?? '');
        continue;
      }
      tail.add(n.name ?? '');
      todo.push(...(n.input ?? []));
    }
    const tailOps = new Set(graph.node.filter((n) => tail.has(n.name ?? '')).map((n) => n.opType));
    assert.ok(tailOps.has('Sigmoid') && tailOps.has('Exp'), [...tailOps].join(','));
    assert.ok(!tailOps.has('Conv') && !tailOps.has('QuantizeLinear'), [...tailOps].join(','));
    assert.equal(stops.size, 12, 'the tail starts at the 6 class and 6 box heads');
    const floats = graph.initializer.filter((t) => t.dataType === DT.FLOAT).length;
    assert.ok(readFileSync(modelPath).length < 0.35 * readRecord().onnx.bytes, 'not much smaller than the float model');
    assert.ok(floats > 0);
  });

  it('onnxruntime fuses every Conv into a QLinearConv (the speed comes from there)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'int8-'));
    try {
      const optimized = path.join(dir, 'optimized.onnx');
      const session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: 1,
        graphOptimizationLevel: 'extended',
        optimizedModelFilePath: optimized,
      });
      await session.release();
      const ops = onnx.ModelProto.decode(readFileSync(optimized)).graph?.node?.map((n) => n.opType ?? '') ?? [];
      assert.equal(ops.filter((op) => op === 'QLinearConv').length, 88);
      assert.equal(ops.filter((op) => op === 'Conv' || op === 'FusedConv').length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('int8 model drift against the reference on the evaluation photos (what models/README.md states)', () => {
  it('finds every reference object and adds none, but moves scores by more than 0.02 (at most 0.07)', { timeout: 300_000 }, async (t) => {
    // Prepare
    const photos = ensureEvaluationPhotos();
    const reference = readEvaluationReference();
    const judgements = [];
    // Act: the detector as the pipeline runs it, with the int8 file as its model
    for (const p of photos) {
      const found = await detect(readFileSync(p.file), { modelPath, intraOpNumThreads: 1 });
      const judgement = judge(found, reference[p.id]!.detections);
      t.diagnostic(`${p.id}: ${describeJudgement(judgement)}`);
      judgements.push(judgement);
    }
    // Assess
    const missing = judgements.flatMap((j) => j.missing);
    const added = judgements.flatMap((j) => j.added);
    const worst = Math.max(...judgements.map((j) => j.worstDelta));
    const drifted = judgements.flatMap((j) => j.drifted).length;
    t.diagnostic(
      `int8: missing ${missing.length}, added ${added.length}, ${drifted} scores moved by more than 0.02, worst ${worst.toFixed(3)}`,
    );
    assert.deepEqual(missing, [], 'models/README.md says the int8 model misses none');
    assert.deepEqual(added, [], 'models/README.md says the int8 model adds none');
    assert.ok(worst <= 0.07, `worst score delta ${worst.toFixed(3)}: models/README.md says at most 0.07`);
    assert.ok(
      !judgements.every(holds),
      'the int8 model now holds the faithful contract on every evaluation photo: revisit DEFAULT_MODEL in src/detect/modelPath.ts and models/README.md',
    );
  });
});
