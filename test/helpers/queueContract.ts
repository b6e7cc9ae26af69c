import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeadLetterAdmin } from '../../src/ports/DeadLetters';
import type { Queue, ReceivedMessage } from '../../src/ports/Queue';

/**
 * The Queue contract (SQS semantics the stages rely on), run against MemoryQueue in the unit tests
 * and SqsQueue on a real ElasticMQ in the integration tests.
 */
export interface QueueUnderTest {
  queue: Queue;
  /** The adapter's dead-letter admin (MemoryQueue is its own; SqsDeadLetters for SqsQueue). */
  deadLetters: DeadLetterAdmin;
  /** A fresh, empty queue (with its dead-letter queue) for one test; returns its name. */
  newQueue(): Promise<string>;
  /** The maxReceiveCount the queues were made with; at least 3. */
  maxReceiveCount: number;
  /** A short visibility timeout the adapter supports (0.2 s in memory; SQS counts whole seconds). */
  visibilitySeconds: number;
  cleanup?: () => Promise<void>;
}

/** Receives until `count` messages arrived or `seconds` passed. */
export async function receiveAll(
  queue: Queue,
  name: string,
  count: number,
  visibilityTimeoutSeconds: number,
  seconds = 5,
): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const deadline = Date.now() + seconds * 1000;
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await queue.receive(name, { maxMessages: 10, waitTimeSeconds: 1, visibilityTimeoutSeconds })));
  }
  return got;
}

export function queueContract(adapter: string, setUp: () => Promise<QueueUnderTest>): void {
  describe(`Queue contract: ${adapter}`, () => {
    let t: QueueUnderTest;
    let queue: Queue;
    let deadLetters: DeadLetterAdmin;
    const vis = () => t.visibilitySeconds;
    /** Long enough for an in-flight message to be visible again. */
    const afterVisibility = () => sleep(vis() * 1000 + 150);

    before(async () => {
      t = await setUp();
      queue = t.queue;
      deadLetters = t.deadLetters;
      assert.ok(t.maxReceiveCount >= 3, 'the contract needs maxReceiveCount >= 3');
    });
    after(async () => {
      await t?.cleanup?.();
    });

    it('delivers a message with its receive count and sent time; a delete removes it', async () => {
      // Prepare
      const name = await t.newQueue();
      const before = Date.now();
      await queue.send(name, '{"path":"original/a.jpg"}');
      // Act
      const [m, ...rest] = await queue.receive(name, { waitTimeSeconds: 2, visibilityTimeoutSeconds: vis() });
      // Assess
      assert.ok(m, 'expected a message');
      assert.deepEqual(rest, []);
      assert.equal(m.body, '{"path":"original/a.jpg"}');
      assert.equal(m.receiveCount, 1);
      assert.ok(m.messageId.length > 0 && m.receiptHandle.length > 0);
      assert.ok(Math.abs(m.sentTimestamp - before) < 5000, `sentTimestamp ${m.sentTimestamp} far from ${before}`);
      await queue.delete(name, m.receiptHandle);
      await afterVisibility();
      assert.deepEqual(await queue.receive(name, { waitTimeSeconds: 0 }), []);
    });

    it('hides a received message for the visibility timeout, then delivers it again with a new receipt handle', async () => {
      const name = await t.newQueue();
      await queue.send(name, 'again');
      const [first] = await queue.receive(name, { waitTimeSeconds: 2, visibilityTimeoutSeconds: vis() });
      assert.ok(first);
      // Hidden while in flight.
      assert.deepEqual(await queue.receive(name, { waitTimeSeconds: 0, visibilityTimeoutSeconds: vis() }), []);
      // Back after the timeout: one long poll that outlasts the timeout receives it (no bound on
      // how soon is asserted; a loaded machine may be slow, and the wait itself is the bound).
      const [second] = await queue.receive(name, { waitTimeSeconds: vis() + 3, visibilityTimeoutSeconds: vis() });
      assert.ok(second, 'expected the message again');
      assert.equal(second.messageId, first.messageId);
      assert.equal(second.body, 'again');
      assert.equal(second.receiveCount, 2);
      assert.notEqual(second.receiptHandle, first.receiptHandle);
      await queue.delete(name, second.receiptHandle);
    });

    it('ignores a stale receipt handle from an earlier receive', async () => {
      const name = await t.newQueue();
      await queue.send(name, 'stale');
      const [r1] = await queue.receive(name, { waitTimeSeconds: 2, visibilityTimeoutSeconds: vis() });
      assert.ok(r1);
      await afterVisibility();
      const [r2] = await queue.receive(name, { waitTimeSeconds: 2, visibilityTimeoutSeconds: vis() });
      assert.ok(r2);
      // Act: the first consumer, too late, deletes with its old handle.
      await queue.delete(name, r1.receiptHandle); // accepted (and logged), deletes nothing
      await afterVisibility();
      // Assess: the message is still there.
      const [r3] = await queue.receive(name, { waitTimeSeconds: 2, visibilityTimeoutSeconds: vis() });
      assert.ok(r3, 'a stale receipt handle deleted the message');
      assert.equal(r3.messageId, r1.messageId);
      assert.equal(r3.receiveCount, 3);
      await queue.delete(name, r3.receiptHandle);
    });

    it('moves a message to the dead-letter queue after maxReceiveCount receives without a delete', async () => {
      const name = await t.newQueue();
      await queue.send(name, 'poison');
      for (let i = 1; i <= t.maxReceiveCount; i += 1) {
        const [m] = await queue.receive(name, { waitTimeSeconds: vis() + 3, visibilityTimeoutSeconds: vis() });
        assert.ok(m, `receive ${i} got nothing`);
        assert.equal(m.receiveCount, i);
      }
      await afterVisibility();
      assert.deepEqual(await queue.receive(name, { waitTimeSeconds: 1, visibilityTimeoutSeconds: vis() }), []);
      const dead = await deadLetters.listDeadLetters(name);
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.body, 'poison');
      assert.equal(dead[0]!.reason, 'maxReceiveCount exceeded');
    });

    it('deadLetter puts a message straight into the dead-letter queue with its reason', async () => {
      const name = await t.newQueue();
      await queue.deadLetter(name, '{"bad":true}', 'InvalidMessageError: path: expected an image key');
      assert.deepEqual(await queue.receive(name, { waitTimeSeconds: 0 }), []);
      const first = await deadLetters.listDeadLetters(name);
      const second = await deadLetters.listDeadLetters(name); // listing leaves them in place
      for (const dead of [first, second]) {
        assert.equal(dead.length, 1);
        assert.equal(dead[0]!.body, '{"bad":true}');
        assert.equal(dead[0]!.reason, 'InvalidMessageError: path: expected an image key');
        assert.ok(dead[0]!.messageId.length > 0);
        assert.ok(dead[0]!.sentTimestamp > 0);
      }
    });

    it('redrives every dead letter back to its queue as a fresh message', async () => {
      const name = await t.newQueue();
      const bodies = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'r11', 'r12'];
      for (const body of bodies) await queue.deadLetter(name, body, 'test');
      assert.equal((await deadLetters.listDeadLetters(name)).length, bodies.length);
      // Act
      const moved = await deadLetters.redriveDeadLetters(name);
      // Assess
      assert.equal(moved, bodies.length);
      assert.deepEqual(await deadLetters.listDeadLetters(name), []);
      const got = await receiveAll(queue, name, bodies.length, 30);
      assert.deepEqual(got.map((m) => m.body).sort(), [...bodies].sort());
      assert.ok(
        got.every((m) => m.receiveCount === 1),
        'redriven messages start over',
      );
      for (const m of got) await queue.delete(name, m.receiptHandle);
      assert.equal(await deadLetters.redriveDeadLetters(name), 0);
    });

    it('long polling returns as soon as a message is sent', async () => {
      const name = await t.newQueue();
      const started = Date.now();
      const receiving = queue.receive(name, { waitTimeSeconds: 20, visibilityTimeoutSeconds: 30 });
      await sleep(300);
      await queue.send(name, 'wake up');
      const [m] = await receiving;
      assert.ok(m, 'expected the message');
      assert.equal(m.body, 'wake up');
      // Woken by the send, not by the end of the 20 s wait: the bound is half the wait, so a
      // loaded machine cannot fail it, and a poll that sleeps out its wait always does.
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      await queue.delete(name, m.receiptHandle);
    });

    it('long polling returns nothing once the wait is over', async () => {
      const name = await t.newQueue();
      const started = Date.now();
      assert.deepEqual(await queue.receive(name, { waitTimeSeconds: 1 }), []);
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 3000, `took ${took} ms`);
    });

    it('gives each message to one consumer at a time, up to maxMessages per receive', async () => {
      const name = await t.newQueue();
      const bodies = Array.from({ length: 15 }, (_, i) => `m${i}`);
      await Promise.all(bodies.map((b) => queue.send(name, b)));
      // Act: three consumers race.
      const batches = await Promise.all([1, 2, 3].map(() => receiveAll(queue, name, 15, 30, 3)));
      // Assess: every message once, no batch over 10 per receive is checked by the adapter.
      const all = batches.flat();
      assert.deepEqual(all.map((m) => m.body).sort(), [...bodies].sort());
      assert.equal(new Set(all.map((m) => m.messageId)).size, 15);
      for (const m of all) await queue.delete(name, m.receiptHandle);
    });
  });
}
