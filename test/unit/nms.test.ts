import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { iou, nonMaxSuppression, postprocess, toPixelBox } from '../../src/detect/nms';
import { COCO_LABELS, NUM_CLASSES } from '../../src/domain/cocoLabels';

/** Column of a class name in the model's score matrix (column j = id j + 1). */
function column(label: string): number {
  const id = Object.entries(COCO_LABELS).find(([, name]) => name === label)?.[0];
  assert.ok(id, `no class ${label}`);
  return Number(id) - 1;
}

/** Raw model output factory: anchors as [ymin, xmin, ymax, xmax] with {label: score} maps. */
function rawOutput(anchors: { box: [number, number, number, number]; scores: Record<string, number> }[]) {
  const boxes = new Float32Array(anchors.length * 4);
  const scores = new Float32Array(anchors.length * NUM_CLASSES);
  anchors.forEach((a, i) => {
    boxes.set(a.box, i * 4);
    for (const [label, s] of Object.entries(a.scores)) scores[i * NUM_CLASSES + column(label)] = s;
  });
  return { boxes, scores, numAnchors: anchors.length, numClasses: NUM_CLASSES };
}

describe('iou', () => {
  it('is 1 for the same box, 0 for disjoint or empty boxes, and exact for a half overlap', () => {
    // Prepare
    const boxes = [0, 0, 1, 1, /**/ 0, 0, 1, 1, /**/ 2, 2, 3, 3, /**/ 0, 0.5, 1, 1.5, /**/ 0, 0, 0, 1];
    // Act / Assess
    assert.equal(iou(boxes, 0, 1), 1);
    assert.equal(iou(boxes, 0, 2), 0);
    assert.equal(iou(boxes, 0, 3), 0.5 / 1.5);
    assert.equal(iou(boxes, 0, 4), 0);
  });

  it('accepts corners in either order, as TF does', () => {
    const boxes = [0, 0, 1, 1, /**/ 1, 1, 0, 0];
    assert.equal(iou(boxes, 0, 1), 1);
  });
});

describe('nonMaxSuppression', () => {
  // Three boxes: 0 and 1 overlap with IoU 0.8, 2 is apart.
  const boxes = [0, 0, 1, 1, /**/ 0, 0, 1, 0.8, /**/ 0, 2, 1, 3];

  it('keeps the best of overlapping boxes and the ones apart, best first', () => {
    // Act
    const kept = nonMaxSuppression(boxes, [0.7, 0.9, 0.6], 20, 0.5, 0.5);
    // Assess
    assert.deepEqual(kept, [1, 2]);
  });

  it('keeps overlapping boxes when their IoU is below the threshold, and drops them at IoU == threshold', () => {
    assert.deepEqual(nonMaxSuppression(boxes, [0.7, 0.9, 0.6], 20, 0.81, 0.5), [1, 0, 2]);
    assert.deepEqual(nonMaxSuppression(boxes, [0.7, 0.9, 0.6], 20, iou(boxes, 0, 1), 0.5), [1, 2]);
  });

  it('keeps only scores strictly above the score threshold', () => {
    assert.deepEqual(nonMaxSuppression(boxes, [0.5, 0.4, 0.51], 20, 0.5, 0.5), [2]);
  });

  it('stops at the maximum count', () => {
    const many = Array.from({ length: 10 }, (_, i) => [0, i * 2, 1, i * 2 + 1]).flat();
    const scores = Array.from({ length: 10 }, (_, i) => 0.9 - i * 0.01);
    assert.deepEqual(nonMaxSuppression(many, scores, 3, 0.5, 0.5), [0, 1, 2]);
  });

  it('breaks score ties by lower index first, as TF does', () => {
    assert.deepEqual(nonMaxSuppression(boxes, [0.8, 0.8, 0.1], 20, 0.5, 0.5), [0]);
  });
});

describe('postprocess', () => {
  // A horse and, on almost the same box, a weaker cow; a dog apart.
  const raw = rawOutput([
    { box: [0.1, 0.1, 0.5, 0.5], scores: { horse: 0.9, cow: 0.3 } },
    { box: [0.1, 0.1, 0.5, 0.52], scores: { cow: 0.7, horse: 0.2 } },
    { box: [0.6, 0.6, 0.9, 0.9], scores: { dog: 0.8 } },
  ]);

  it('class-agnostic: one box per place whatever the class', () => {
    // Act
    const detections = postprocess(raw, 100, 200, { classAgnostic: true });
    // Assess
    assert.deepEqual(
      detections.map((d) => d.label),
      ['horse', 'dog'],
    );
  });

  it('per class: overlapping objects of different classes both survive, sorted by score', () => {
    const detections = postprocess(raw, 100, 200, { classAgnostic: false });
    assert.deepEqual(
      detections.map((d) => [d.label, Math.round(d.score * 100)]),
      [
        ['horse', 90],
        ['dog', 80],
        ['cow', 70],
      ],
    );
  });

  it('per class: one anchor may yield two classes above the threshold', () => {
    const both = rawOutput([{ box: [0, 0, 1, 1], scores: { horse: 0.6, cow: 0.55 } }]);
    assert.deepEqual(
      postprocess(both, 10, 10, { classAgnostic: false }).map((d) => d.label),
      ['horse', 'cow'],
    );
    assert.deepEqual(
      postprocess(both, 10, 10, { classAgnostic: true }).map((d) => d.label),
      ['horse'],
    );
  });

  it('applies score threshold and maximum count in both modes', () => {
    for (const classAgnostic of [true, false]) {
      assert.deepEqual(
        postprocess(raw, 100, 200, { classAgnostic, scoreThreshold: 0.85 }).map((d) => d.label),
        ['horse'],
      );
      assert.equal(postprocess(raw, 100, 200, { classAgnostic, maxDetections: 1 }).length, 1);
    }
  });

  it('scales boxes to the image pixels: x from xmin * width, y from ymin * height', () => {
    const [horse] = postprocess(raw, 100, 200, {});
    assert.ok(horse);
    assert.equal(horse.box.x, Math.fround(0.1) * 100);
    assert.equal(horse.box.y, Math.fround(0.1) * 200);
    assert.ok(Math.abs(horse.box.width - 40) < 1e-5);
    assert.ok(Math.abs(horse.box.height - 80) < 1e-5);
  });

  it('ignores columns of class ids that have no name (gaps of the COCO map)', () => {
    const scores = new Float32Array(NUM_CLASSES);
    scores[11] = 0.99; // id 12: no name
    scores[column('person')] = 0.6;
    const detections = postprocess({ scores, boxes: new Float32Array([0, 0, 1, 1]), numAnchors: 1, numClasses: NUM_CLASSES }, 10, 10);
    assert.deepEqual(
      detections.map((d) => d.label),
      ['person'],
    );
  });
});

describe('toPixelBox', () => {
  it('clamps boxes that leave the image and orders swapped corners', () => {
    // Prepare: ymin, xmin, ymax, xmax beyond [0, 1]; then swapped corners
    const boxes = [-0.1, -0.2, 1.3, 0.5, /**/ 0.75, 1, 0.25, 0.5];
    // Act
    const a = toPixelBox(boxes, 0, 200, 100);
    const b = toPixelBox(boxes, 1, 200, 100);
    // Assess
    assert.deepEqual(a, { x: 0, y: 0, width: 100, height: 100 });
    assert.deepEqual(b, { x: 100, y: 25, width: 100, height: 50 });
  });
});
