/**
 * Differential test of the ONNX conversion: the original TF.js graph (tfjs-wasm) and the ONNX model
 * (onnxruntime-node) must agree on scores and boxes for every anchor.
 *
 * For the photos, TF gets the full-size image and resizes it inside its own graph (the while-loop the
 * converter drops), while ONNX gets the same image resized by tf.image.resizeBilinear with TF's
 * semantics, as the caller will do: this checks the dropped loop as well as the converted body.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { ensureFloatModel as ensureModel } from '../../models/ensure-float-model';
import { loadTfjsReference, type RawDetections, type TfjsReference, tf } from '../../models/tfjs-reference';
import { fixturePath } from '../helpers/fixtures';

const TOLERANCE = 1e-3;
const SIZE = 300;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'output lengths differ');
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** Deterministic noise (mulberry32), so a failure can be reproduced. */
function noiseImage(seed: number): Int32Array {
  let s = seed >>> 0;
  const out = new Int32Array(SIZE * SIZE * 3);
  for (let i = 0; i < out.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) % 256;
  }
  return out;
}

async function decode(name: string): Promise<tf.Tensor4D> {
  const { data, info } = await sharp(fixturePath(name)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3, `${name}: expected 3 channels`);
  return tf.tensor4d(Int32Array.from(data), [1, info.height, info.width, 3], 'int32');
}

describe('ONNX model vs the TF.js graph it was converted from', () => {
  let reference: TfjsReference;
  let session: ort.InferenceSession;

  before(async () => {
    const modelPath = await ensureModel();
    reference = await loadTfjsReference();
    session = await ort.InferenceSession.create(modelPath);
  });

  after(async () => {
    reference?.dispose();
    await session?.release();
  });

  async function runOnnx(resized: Float32Array): Promise<RawDetections> {
    const out = await session.run({ image: new ort.Tensor('float32', resized, [1, SIZE, SIZE, 3]) });
    assert.deepEqual(out.scores?.dims, [1, 1917, 90]);
    assert.deepEqual(out.boxes?.dims, [1, 1917, 4]);
    return { scores: out.scores?.data as Float32Array, boxes: out.boxes?.data as Float32Array };
  }

  function compare(label: string, tfOut: RawDetections, onnxOut: RawDetections): void {
    const scores = maxAbsDiff(tfOut.scores, onnxOut.scores);
    const boxes = maxAbsDiff(tfOut.boxes, onnxOut.boxes);
    console.log(`${label}: max |diff| scores ${scores.toExponential(2)}, boxes ${boxes.toExponential(2)} over 1917 anchors`);
    assert.ok(scores <= TOLERANCE, `${label}: scores differ by ${scores}, expected <= ${TOLERANCE}`);
    assert.ok(boxes <= TOLERANCE, `${label}: boxes differ by ${boxes}, expected <= ${TOLERANCE}`);
  }

  for (const name of ['dog.jpg', 'kite.jpg']) {
    it(`agrees on ${name} (TF resizes in its graph, ONNX gets tf.image.resizeBilinear output)`, async () => {
      const image = await decode(name);
      const resized = tf.image.resizeBilinear(image, [SIZE, SIZE], false, false);
      try {
        const tfOut = await reference.run(image);
        const onnxOut = await runOnnx((await resized.data()) as Float32Array);
        compare(name, tfOut, onnxOut);
      } finally {
        image.dispose();
        resized.dispose();
      }
    });
  }

  it('agrees on a 300x300 noise image', async () => {
    const pixels = noiseImage(42);
    const image = tf.tensor4d(pixels, [1, SIZE, SIZE, 3], 'int32');
    try {
      compare('noise', await reference.run(image), await runOnnx(Float32Array.from(pixels)));
    } finally {
      image.dispose();
    }
  });
});
