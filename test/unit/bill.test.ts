import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bill, functionSettings, MILLION_A_MONTH, messagesPerBatch, readPrices } from '../../bench/bill';
import type { RequestCounts } from '../../bench/requestCounts';

const counts: RequestCounts = {
  wayIn: 'upload',
  s3Puts: 10,
  s3Gets: 5,
  sqsSends: 4,
  sqsReceives: 4,
  sqsDeletes: 4,
  events: 1,
  logBytes: 2000,
  callsPerFunction: { upload: 2, resize: 3, grayscale: 3, detect: 3, tag: 4 },
};
const stageCpuMs = { upload: 1, resize: 60, grayscale: 10, detect: 20, tag: 140 };

describe('the bench bill (bench/bill.ts)', () => {
  it("reads each function's memory and SQS event source from serverless.yml, Lambda's defaults where it says nothing", () => {
    const yaml = [
      'provider:',
      '  memorySize: 1024',
      'functions:',
      '  upload:',
      '    memorySize: 512',
      '  resize:',
      '    events:',
      '      - sqs: { arn: x, batchSize: 5, maximumBatchingWindow: 2 }',
      '  tag:',
      '    events:',
      '      - sqs: { arn: y }',
    ].join('\n');
    assert.deepEqual(functionSettings(yaml), {
      upload: { memoryMb: 512 },
      resize: { memoryMb: 1024, sqs: { batchSize: 5, batchingWindowSeconds: 2 } },
      tag: { memoryMb: 1024, sqs: { batchSize: 10, batchingWindowSeconds: 0 } },
    });
    // The repository's own: every stage on a queue has an event source.
    const own = functionSettings();
    for (const fn of ['resize', 'grayscale', 'detect', 'tag', 'ingest']) assert.ok(own[fn]?.sqs, `${fn} has an SQS event source`);
  });

  it('a batch holds what arrives within the window, at least one message and at most batchSize', () => {
    assert.equal(messagesPerBatch({ batchSize: 5, batchingWindowSeconds: 0 }, 100), 1);
    assert.equal(messagesPerBatch({ batchSize: 5, batchingWindowSeconds: 2 }, 1), 2);
    assert.equal(messagesPerBatch({ batchSize: 5, batchingWindowSeconds: 20 }, 1), 5);
    assert.equal(messagesPerBatch({ batchSize: 10, batchingWindowSeconds: 1 }, 0.1), 1);
  });

  it('charges Lambda requests, receives and deletes per batch, not per photo', () => {
    const prices = readPrices();
    const functions = {
      upload: { memoryMb: 512 },
      resize: { memoryMb: 1024, sqs: { batchSize: 5, batchingWindowSeconds: 0 } },
      grayscale: { memoryMb: 512, sqs: { batchSize: 5, batchingWindowSeconds: 0 } },
      detect: { memoryMb: 2048, sqs: { batchSize: 5, batchingWindowSeconds: 0 } },
      tag: { memoryMb: 1024, sqs: { batchSize: 5, batchingWindowSeconds: 0 } },
    };
    const input = { stageCpuMs, counts, functions, prices, photosPerSecond: MILLION_A_MONTH, photoBytes: 200_000 };
    const one = bill(input);
    const batched = bill({
      ...input,
      functions: Object.fromEntries(
        Object.entries(functions).map(([fn, f]) => [fn, 'sqs' in f ? { ...f, sqs: { batchSize: 5, batchingWindowSeconds: 60 } } : f]),
      ),
    });
    // Without a window each batch is one message: 4 receives + 4 deletes + 4 sends + EventBridge's delivery.
    assert.equal(one.sqsRequests, 4 + 1 + 2 * 4);
    // A 60 s window at 0.39 photos/s fills batches of 5: receives and deletes a fifth as many.
    assert.ok(Math.abs(batched.sqsRequests - (4 + 1 + (2 * 4) / 5)) < 1e-9);
    const requests = (b: ReturnType<typeof bill>) => b.lines.find((l) => l.item.startsWith('Lambda requests'))!.usd;
    assert.ok(Math.abs(requests(one) - 5 * prices.lambda.per_million_requests) < 1e-9);
    assert.ok(Math.abs(requests(batched) - (1 + 4 / 5) * prices.lambda.per_million_requests) < 1e-9);
    // The same compute either way: a photo's CPU, over the function's share of a vCPU.
    assert.equal(one.perFunction.tag!.msPerPhoto, 140 / (1024 / prices.lambda.mb_per_vcpu) + 4 * 20);
    assert.equal(
      one.lines.find((l) => l.item.startsWith('Lambda duration'))!.usd,
      batched.lines.find((l) => l.item.startsWith('Lambda duration'))!.usd,
    );
  });

  it('bills init time only for functions with a measured one, and says how many have none', () => {
    const prices = readPrices();
    const functions = { upload: { memoryMb: 512 }, detect: { memoryMb: 2048, sqs: { batchSize: 5, batchingWindowSeconds: 0 } } };
    const input = { stageCpuMs, counts, functions, prices, photosPerSecond: MILLION_A_MONTH, photoBytes: 200_000 };
    const none = bill(input).lines.find((l) => l.item.startsWith('Lambda init'))!;
    assert.equal(none.usd, 0);
    assert.match(none.item, /2 of 2 functions without an init time/);
    const some = bill({ ...input, init: { detect: 300 } }).lines.find((l) => l.item.startsWith('Lambda init'))!;
    // 1 % of a million detect invocations, 0.3 s at 2 GB each.
    assert.ok(Math.abs(some.usd - 0.01 * 1e6 * 0.3 * 2 * prices.lambda.x86_64_per_gb_second) < 1e-9);
    assert.match(some.item, /1 of 2 functions without an init time/);
  });

  it('gives every price in bench/prices.json a source and the date it was read', () => {
    const prices = readPrices() as unknown as Record<string, unknown>;
    for (const [service, value] of Object.entries(prices)) {
      if (typeof value !== 'object' || value === null) continue;
      const sources = (value as { sources?: string[] }).sources;
      assert.ok(Array.isArray(sources) && sources.length > 0, `${service}: sources`);
      for (const source of sources) assert.match(source, /read \d{4}-\d\d-\d\d|not re-read|not used/, `${service}: ${source}`);
    }
  });
});
