import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { InvalidInputError, PipelineError } from '../errors';
import { log } from '../log';
import {
  type DeadLetter,
  type DeadLetterAdmin,
  DLQ_SUFFIX,
  deadLetterQueueName,
  MAX_RECEIVE_COUNT_REASON,
  QUEUE_NAME_PATTERN,
} from './DeadLetters';
import type { Queue, ReceivedMessage, ReceiveOptions } from './Queue';

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
 * Queues spring into being on first use. Times may be fractional seconds (tests use 0.2 s).
 *
 * Persistence is opt-in with `{ dir }`: each queue has an append-only journal `<dir>/<name>.jsonl`
 * of send / receive / delete records, written synchronously before the call returns, so a message
 * accepted before a crash is delivered after a restart (with its receive count, so a message that
 * crashes the process still reaches the dead-letter queue). Journals are compacted on start and
 * when mostly dead. A `.lock` file keeps a second live instance off the same folder. Writes are not
 * fsynced: a process crash loses nothing, a power cut may lose the last writes.
 */
export interface MemoryQueueOptions {
  /** Receives before a message moves to the dead-letter queue (SQS maxReceiveCount). Default 3. */
  maxReceiveCount?: number;
  /** Default visibility timeout, in seconds (fractions allowed). Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Folder for the journals; no persistence without it. */
  dir?: string;
}

export interface QueueStats {
  /** Messages a receive would get now. */
  visible: number;
  /** Received and not yet deleted, within their visibility timeout. */
  inFlight: number;
  /** Messages in the dead-letter queue. */
  dead: number;
}

interface StoredMessage {
  id: string;
  body: string;
  sentTimestamp: number;
  receiveCount: number;
  /** Epoch ms from which the message can be received. */
  visibleAt: number;
  receiptHandle?: string;
  reason?: string;
}

type JournalRecord =
  | { op: 'send'; id: string; body: string; ts: number; rc?: number; reason?: string }
  | { op: 'recv'; id: string }
  | { op: 'del'; id: string };

const MAX_WAIT_SECONDS = 20;
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_MESSAGES = 10;
/** Compact a journal once it holds this many records and four times more than live messages. */
const COMPACT_AFTER_RECORDS = 10_000;

class Journal {
  private fd: number;
  private records = 0;

  constructor(
    private readonly file: string,
    live: Iterable<StoredMessage>,
  ) {
    this.fd = this.rewrite(live);
  }

  append(record: JournalRecord): void {
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    this.records += 1;
  }

  maybeCompact(live: Map<string, StoredMessage>): void {
    if (this.records >= COMPACT_AFTER_RECORDS && this.records > 4 * live.size) {
      closeSync(this.fd);
      this.fd = this.rewrite(live.values());
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Writes the live messages to a fresh file, atomically, and opens it for appending. */
  private rewrite(live: Iterable<StoredMessage>): number {
    const temp = `${this.file}.${process.pid}.tmp`;
    const lines: string[] = [];
    for (const m of live) {
      const record: JournalRecord = { op: 'send', id: m.id, body: m.body, ts: m.sentTimestamp };
      if (m.receiveCount > 0) record.rc = m.receiveCount;
      if (m.reason !== undefined) record.reason = m.reason;
      lines.push(JSON.stringify(record));
    }
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, lines.length ? `${lines.join('\n')}\n` : '');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    this.records = lines.length;
    return openSync(this.file, 'a');
  }

  /** Replays a journal into the live messages; a torn last line (crash mid-write) is skipped. */
  static replay(file: string): Map<string, StoredMessage> {
    const messages = new Map<string, StoredMessage>();
    if (!existsSync(file)) return messages;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch (cause) {
        log.warn('queue journal: skipping an unreadable line', { file, line: index + 1, error: cause as Error });
        return;
      }
      if (record.op === 'send') {
        const m: StoredMessage = { id: record.id, body: record.body, sentTimestamp: record.ts, receiveCount: record.rc ?? 0, visibleAt: 0 };
        if (record.reason !== undefined) m.reason = record.reason;
        messages.set(record.id, m);
      } else if (record.op === 'recv') {
        const m = messages.get(record.id);
        if (m) m.receiveCount += 1;
      } else if (record.op === 'del') {
        messages.delete(record.id);
      }
    });
    return messages;
  }
}

class QueueState {
  readonly messages = new Map<string, StoredMessage>();
  readonly waiters = new Set<() => void>();
  journal?: Journal;
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
  private closed = false;
  private lockFile?: string;

  constructor(options: MemoryQueueOptions = {}) {
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
      log.warn('delete ignored: the receipt handle is stale; the message will be delivered again', { queue: queueName });
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
    if (this.lockFile) {
      try {
        unlinkSync(this.lockFile);
      } catch {
        // already gone
      }
    }
  }

  private queue(name: string): QueueState {
    if (this.closed) throw new PipelineError('MemoryQueue is closed');
    if (typeof name !== 'string' || !QUEUE_NAME_PATTERN.test(name)) {
      throw new InvalidInputError(`queue name: expected 1 to 80 of A-Z a-z 0-9 _ -, got ${JSON.stringify(name)}`);
    }
    let q = this.queues.get(name);
    if (!q) {
      q = new QueueState(name);
      if (this.dir) q.journal = new Journal(path.join(this.dir, `${name}.jsonl`), []);
      this.queues.set(name, q);
    }
    return q;
  }

  private enqueue(q: QueueState, body: string, reason?: string): void {
    if (typeof body !== 'string') throw new InvalidInputError(`message body: expected a string, got ${typeof body}`);
    const m: StoredMessage = { id: randomUUID(), body, sentTimestamp: Date.now(), receiveCount: 0, visibleAt: 0 };
    if (reason !== undefined) m.reason = reason;
    const record: JournalRecord = { op: 'send', id: m.id, body, ts: m.sentTimestamp };
    if (reason !== undefined) record.reason = reason;
    q.journal?.append(record);
    q.messages.set(m.id, m);
    q.wake();
  }

  private remove(q: QueueState, m: StoredMessage): void {
    q.journal?.append({ op: 'del', id: m.id });
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
      q.journal?.append({ op: 'recv', id: m.id });
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

  private open(dir: string): void {
    mkdirSync(dir, { recursive: true });
    this.lockFile = path.join(dir, '.lock');
    try {
      writeFileSync(this.lockFile, String(process.pid), { flag: 'wx' });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(this.lockFile, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        this.lockFile = undefined;
        throw new PipelineError(
          `queue journal folder ${dir} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}: expected one MemoryQueue per folder`,
        );
      }
      writeFileSync(this.lockFile, String(process.pid)); // left by a process that is gone
    }
    for (const file of readdirSync(dir)) {
      if (file.endsWith('.tmp')) {
        unlinkSync(path.join(dir, file));
        continue;
      }
      if (!file.endsWith('.jsonl')) continue;
      const name = file.slice(0, -'.jsonl'.length);
      if (!QUEUE_NAME_PATTERN.test(name)) continue;
      const messages = Journal.replay(path.join(dir, file));
      const q = new QueueState(name);
      for (const [id, m] of messages) q.messages.set(id, m);
      q.journal = new Journal(path.join(dir, file), q.messages.values());
      this.queues.set(name, q);
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
