import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, PipelineError } from '../errors';
import {
  type DeadLetter,
  type DeadLetterAdmin,
  DLQ_SUFFIX,
  deadLetterQueueName,
  MAX_RECEIVE_COUNT_REASON,
  QUEUE_NAME_PATTERN,
} from './DeadLetters';
import { FolderLock } from './FolderLock';
import { type PortLogger, silentLogger } from './PortLogger';
import type { Queue, ReceivedMessage, ReceiveOptions } from './Queue';
import { type JournaledMessage, QueueJournal } from './QueueJournal';

/**
 * The embedded default's queue, in process, with the SQS semantics the stages rely on:
 *
 * - at-least-once delivery: a received message becomes invisible for the visibility timeout and
 *   comes back unless it is deleted in time;
 * - receipt handles are per receive: deleting with the handle of an earlier receive (after the
 *   message came back and was received again) does nothing, as on SQS;
 * - after `maxReceiveCount` receives without a delete, the next time the message would be
 *   delivered it moves to `<name>_dlq` instead, with reason "maxReceiveCount exceeded";
 * - long polling waits on an event (a send, a redrive, or the moment an in-flight message becomes
 *   visible again), never in a busy loop.
 *
 * Queues spring into being on first use. Times may be fractional seconds (tests use 0.2 s). The
 * dead-letter queues are in memory too, so listing and redriving them (DeadLetterAdmin) is a look
 * at the same maps, not a protocol of its own as on SQS (SqsDeadLetters).
 *
 * Persistence is opt-in with `{ dir }`: each queue keeps a QueueJournal in the folder, and a
 * FolderLock keeps a second live instance off it.
 */
export interface MemoryQueueOptions {
  /** Receives before a message moves to the dead-letter queue (SQS maxReceiveCount). Default 3. */
  maxReceiveCount?: number;
  /** Default visibility timeout, in seconds (fractions allowed). Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Folder for the journals; no persistence without it. */
  dir?: string;
  /** Where stale deletes and unreadable journal lines are reported. Default: silent. */
  log?: PortLogger;
}

export interface QueueStats {
  /** Messages a receive would get now. */
  visible: number;
  /** Received and not yet deleted, within their visibility timeout. */
  inFlight: number;
  /** Messages in the dead-letter queue. */
  dead: number;
}

interface StoredMessage extends JournaledMessage {
  /** Epoch ms from which the message can be received. */
  visibleAt: number;
  receiptHandle?: string;
}

const MAX_WAIT_SECONDS = 20;
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_MESSAGES = 10;

class QueueState {
  readonly messages = new Map<string, StoredMessage>();
  readonly waiters = new Set<() => void>();
  journal?: QueueJournal;
  constructor(readonly name: string) {}
  get isDeadLetterQueue(): boolean {
    return this.name.endsWith(DLQ_SUFFIX);
  }
  wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export class MemoryQueue implements Queue, DeadLetterAdmin {
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
  readonly dir?: string;
  private readonly queues = new Map<string, QueueState>();
  private readonly log: PortLogger;
  private closed = false;
  private lock?: FolderLock;

  constructor(options: MemoryQueueOptions = {}) {
    this.log = options.log ?? silentLogger;
    this.maxReceiveCount = options.maxReceiveCount ?? 3;
    this.visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1) {
      throw new InvalidInputError(`maxReceiveCount: expected a positive whole number, got ${this.maxReceiveCount}`);
    }
    checkSeconds('visibilityTimeoutSeconds', this.visibilityTimeoutSeconds, MAX_VISIBILITY_SECONDS);
    if (options.dir !== undefined) {
      this.dir = path.resolve(options.dir);
      this.open(this.dir);
    }
  }

  async send(queueName: string, body: string): Promise<void> {
    this.enqueue(this.queue(queueName), body);
  }

  async receive(queueName: string, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const q = this.queue(queueName);
    const max = options.maxMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > MAX_MESSAGES) {
      throw new InvalidInputError(`maxMessages: expected a whole number from 1 to ${MAX_MESSAGES}, got ${max}`);
    }
    const waitSeconds = options.waitTimeSeconds ?? 0;
    checkSeconds('waitTimeSeconds', waitSeconds, MAX_WAIT_SECONDS);
    const visibilitySeconds = options.visibilityTimeoutSeconds ?? this.visibilityTimeoutSeconds;
    checkSeconds('visibilityTimeoutSeconds', visibilitySeconds, MAX_VISIBILITY_SECONDS);

    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      if (this.closed) return [];
      const got = this.take(q, max, visibilitySeconds);
      if (got.length > 0 || Date.now() >= deadline) return got;
      await this.waitForChange(q, deadline);
    }
  }

  async delete(queueName: string, receiptHandle: string): Promise<void> {
    const q = this.queue(queueName);
    const id = messageIdOf(receiptHandle);
    const m = q.messages.get(id);
    // A handle from an earlier receive is stale: SQS accepts the call and deletes nothing.
    if (m === undefined || m.receiptHandle !== receiptHandle) {
      this.log.warn('delete ignored: the receipt handle is stale; the message will be delivered again', { queue: queueName });
      return;
    }
    this.remove(q, m);
  }

  async deadLetter(queueName: string, body: string, reason: string): Promise<void> {
    this.queue(queueName);
    this.enqueue(this.queue(deadLetterQueueName(queueName)), body, reason);
  }

  async listDeadLetters(queueName: string): Promise<DeadLetter[]> {
    this.queue(queueName);
    const dlq = this.queue(deadLetterQueueName(queueName));
    return [...dlq.messages.values()].map((m) => {
      const letter: DeadLetter = { messageId: m.id, body: m.body, sentTimestamp: m.sentTimestamp };
      if (m.reason !== undefined) letter.reason = m.reason;
      return letter;
    });
  }

  async redriveDeadLetters(queueName: string): Promise<number> {
    const q = this.queue(queueName);
    const dlq = this.queue(deadLetterQueueName(queueName));
    let moved = 0;
    for (const m of [...dlq.messages.values()]) {
      this.enqueue(q, m.body);
      this.remove(dlq, m);
      moved += 1;
    }
    return moved;
  }

  /** Visible, in-flight and dead counts of every queue used so far (dead-letter queues folded in). */
  stats(): Record<string, QueueStats> {
    const now = Date.now();
    const out: Record<string, QueueStats> = {};
    const names = new Set<string>();
    for (const name of this.queues.keys()) {
      names.add(name.endsWith(DLQ_SUFFIX) ? name.slice(0, -DLQ_SUFFIX.length) : name);
    }
    for (const name of [...names].sort()) {
      const q = this.queues.get(name);
      let visible = 0;
      let inFlight = 0;
      for (const m of q?.messages.values() ?? []) {
        if (m.visibleAt <= now) visible += 1;
        else inFlight += 1;
      }
      out[name] = { visible, inFlight, dead: this.queues.get(deadLetterQueueName(name))?.messages.size ?? 0 };
    }
    return out;
  }

  /** Ends waiting receives (they resolve with no messages), closes the journals, frees the folder. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queues.values()) {
      q.wake();
      q.journal?.close();
    }
    this.lock?.release();
  }

  private queue(name: string): QueueState {
    if (this.closed) throw new PipelineError('MemoryQueue is closed');
    if (typeof name !== 'string' || !QUEUE_NAME_PATTERN.test(name)) {
      throw new InvalidInputError(`queue name: expected 1 to 80 of A-Z a-z 0-9 _ -, got ${JSON.stringify(name)}`);
    }
    let q = this.queues.get(name);
    if (!q) {
      q = new QueueState(name);
      if (this.dir) q.journal = new QueueJournal(QueueJournal.fileFor(this.dir, name), []);
      this.queues.set(name, q);
    }
    return q;
  }

  private enqueue(q: QueueState, body: string, reason?: string): void {
    if (typeof body !== 'string') throw new InvalidInputError(`message body: expected a string, got ${typeof body}`);
    const m: StoredMessage = { id: randomUUID(), body, sentTimestamp: Date.now(), receiveCount: 0, visibleAt: 0 };
    if (reason !== undefined) m.reason = reason;
    q.journal?.sent(m);
    q.messages.set(m.id, m);
    q.wake();
  }

  private remove(q: QueueState, m: StoredMessage): void {
    q.journal?.deleted(m.id);
    q.messages.delete(m.id);
    q.journal?.maybeCompact(q.messages);
  }

  /** Receives up to `max` visible messages, dead-lettering those past maxReceiveCount. */
  private take(q: QueueState, max: number, visibilitySeconds: number): ReceivedMessage[] {
    const now = Date.now();
    const out: ReceivedMessage[] = [];
    for (const m of q.messages.values()) {
      if (out.length >= max) break;
      if (m.visibleAt > now) continue;
      if (!q.isDeadLetterQueue && m.receiveCount >= this.maxReceiveCount) {
        this.enqueue(this.queue(deadLetterQueueName(q.name)), m.body, MAX_RECEIVE_COUNT_REASON);
        this.remove(q, m);
        continue;
      }
      m.receiveCount += 1;
      m.receiptHandle = `${m.id}:${randomUUID()}`;
      m.visibleAt = now + visibilitySeconds * 1000;
      q.journal?.received(m.id);
      out.push({
        messageId: m.id,
        receiptHandle: m.receiptHandle,
        body: m.body,
        receiveCount: m.receiveCount,
        sentTimestamp: m.sentTimestamp,
      });
    }
    return out;
  }

  /** Resolves on the next send or redrive to `q`, when an in-flight message becomes visible, at the deadline, or on close. */
  private waitForChange(q: QueueState, deadline: number): Promise<void> {
    let wakeAt = deadline;
    for (const m of q.messages.values()) if (m.visibleAt > Date.now() && m.visibleAt < wakeAt) wakeAt = m.visibleAt;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        q.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, wakeAt - Date.now()));
      q.waiters.add(done);
    });
  }

  /** Locks the folder, then brings back every journaled queue as it was. */
  private open(dir: string): void {
    mkdirSync(dir, { recursive: true });
    this.lock = FolderLock.acquire(dir, { what: 'queue journal folder', owner: 'MemoryQueue' });
    for (const replayed of QueueJournal.openAll(dir, this.log)) {
      const q = new QueueState(replayed.name);
      for (const [id, m] of replayed.messages) q.messages.set(id, { ...m, visibleAt: 0 });
      q.journal = replayed.journal;
      this.queues.set(replayed.name, q);
    }
  }
}

function checkSeconds(name: string, value: number, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new InvalidInputError(`${name}: expected a number of seconds from 0 to ${max}, got ${value}`);
  }
}

function messageIdOf(receiptHandle: string): string {
  const colon = typeof receiptHandle === 'string' ? receiptHandle.indexOf(':') : -1;
  if (colon <= 0) throw new InvalidInputError(`receipt handle: expected one returned by receive, got ${JSON.stringify(receiptHandle)}`);
  return receiptHandle.slice(0, colon);
}
