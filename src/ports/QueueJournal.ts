import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { QUEUE_NAME_PATTERN } from './DeadLetters';
import type { PortLogger } from './PortLogger';

/**
 * The disk journal of one in-memory queue: an append-only file `<dir>/<queue>.jsonl` of send /
 * receive / delete records, written synchronously before the queue's call returns, so a message
 * accepted before a crash is delivered after a restart with its receive count (a message that
 * crashes the process still reaches the dead-letter queue). A journal is rewritten with only the
 * live messages when it opens and when it is mostly dead records. Writes are not fsynced: a
 * process crash loses nothing, a power cut may lose the last writes.
 */

/** What the journal keeps of a message: enough to rebuild it after a restart. */
export interface JournaledMessage {
  id: string;
  body: string;
  sentTimestamp: number;
  receiveCount: number;
  reason?: string;
}

type JournalRecord =
  | { op: 'send'; id: string; body: string; ts: number; rc?: number; reason?: string }
  | { op: 'recv'; id: string }
  | { op: 'del'; id: string };

/** Compact a journal once it holds this many records and four times more than live messages. */
const COMPACT_AFTER_RECORDS = 10_000;
const JOURNAL_SUFFIX = '.jsonl';

export interface ReplayedQueue {
  name: string;
  messages: Map<string, JournaledMessage>;
  journal: QueueJournal;
}

export class QueueJournal {
  private fd: number;
  private records = 0;

  /** Opens `<dir>/<queueName>.jsonl` holding exactly `live` (a new queue: none). */
  constructor(
    private readonly file: string,
    live: Iterable<JournaledMessage>,
  ) {
    this.fd = this.rewrite(live);
  }

  static fileFor(dir: string, queueName: string): string {
    return path.join(dir, `${queueName}${JOURNAL_SUFFIX}`);
  }

  /**
   * Every queue journaled in `dir`: each journal replayed and compacted. Temporary files of a
   * compaction cut short by a crash are removed (the journal they were to replace is intact).
   */
  static openAll(dir: string, log: PortLogger): ReplayedQueue[] {
    const queues: ReplayedQueue[] = [];
    for (const file of readdirSync(dir)) {
      if (file.endsWith('.tmp')) {
        unlinkSync(path.join(dir, file));
        continue;
      }
      if (!file.endsWith(JOURNAL_SUFFIX)) continue;
      const name = file.slice(0, -JOURNAL_SUFFIX.length);
      if (!QUEUE_NAME_PATTERN.test(name)) continue;
      const full = path.join(dir, file);
      const messages = QueueJournal.replay(full, log);
      queues.push({ name, messages, journal: new QueueJournal(full, messages.values()) });
    }
    return queues;
  }

  /** Replays a journal into the live messages; a torn last line (crash mid-write) is skipped. */
  static replay(file: string, log: PortLogger): Map<string, JournaledMessage> {
    const messages = new Map<string, JournaledMessage>();
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
        const m: JournaledMessage = { id: record.id, body: record.body, sentTimestamp: record.ts, receiveCount: record.rc ?? 0 };
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

  sent(m: JournaledMessage): void {
    const record: JournalRecord = { op: 'send', id: m.id, body: m.body, ts: m.sentTimestamp };
    if (m.reason !== undefined) record.reason = m.reason;
    this.append(record);
  }

  received(id: string): void {
    this.append({ op: 'recv', id });
  }

  deleted(id: string): void {
    this.append({ op: 'del', id });
  }

  /** Rewrites the file with only `live` when it is mostly dead records. */
  maybeCompact(live: Map<string, JournaledMessage>): void {
    if (this.records >= COMPACT_AFTER_RECORDS && this.records > 4 * live.size) {
      closeSync(this.fd);
      this.fd = this.rewrite(live.values());
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private append(record: JournalRecord): void {
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    this.records += 1;
  }

  /** Writes the live messages to a fresh file, atomically, and opens it for appending. */
  private rewrite(live: Iterable<JournaledMessage>): number {
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
}
