import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig } from '../../src/config';
import { createPorts } from '../../src/ports/createPorts';
import { MemoryQueue } from '../../src/ports/MemoryQueue';
import type { LogFields, PortLogger } from '../../src/ports/PortLogger';
import { SqsQueue } from '../../src/ports/SqsQueue';

/** A PortLogger that keeps what it is told. */
function recorder(): PortLogger & { lines: Array<[string, string, LogFields | undefined]> } {
  const lines: Array<[string, string, LogFields | undefined]> = [];
  const at =
    (level: string) =>
    (message: string, ...extra: LogFields[]) =>
      void lines.push([level, message, extra.length ? Object.assign({}, ...extra) : undefined]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Everything written to stdout and stderr while `fn` runs. */
async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((s) => s.write);
  for (const s of streams) {
    s.write = ((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }) as typeof s.write;
  }
  try {
    await fn();
  } finally {
    streams.forEach((s, i) => {
      s.write = originals[i]!;
    });
  }
  return chunks.join('');
}

describe('the ports log through the logger they are given', () => {
  it('a Powertools Logger is a PortLogger as it is, and its JSON lines carry what the port says', async () => {
    // Prepare: the type check is the assignment itself (tsc --noEmit fails the build if it stops fitting).
    const powertools: PortLogger = new Logger({ serviceName: 'port-logger-test', logLevel: 'DEBUG' });
    const queue = new MemoryQueue({ log: powertools });
    await queue.send('q', 'x');
    const [m] = await queue.receive('q', { visibilityTimeoutSeconds: 0 });
    await queue.receive('q'); // received again: the first receipt handle is stale now
    // Act
    const out = await captureOutput(() => queue.delete('q', m!.receiptHandle));
    await queue.close();
    // Assess
    const line = JSON.parse(out.trim()) as Record<string, unknown>;
    assert.equal(line.level, 'WARN');
    assert.equal(line.message, 'delete ignored: the receipt handle is stale; the message will be delivered again');
    assert.equal(line.queue, 'q');
    assert.equal(line.service, 'port-logger-test');
  });

  it('an adapter made without a logger says nothing', async () => {
    const queue = new MemoryQueue();
    await queue.send('q', 'x');
    const [m] = await queue.receive('q', { visibilityTimeoutSeconds: 0 });
    await queue.receive('q');
    const out = await captureOutput(() => queue.delete('q', m!.receiptHandle));
    await queue.close();
    assert.equal(out, '');
  });

  it('the journal replay reports an unreadable line to the injected logger', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'port-logger-'));
    await writeFile(path.join(dir, 'q.jsonl'), '{"op":"send","id":"a","body":"kept","ts":1}\nnot json\n');
    const log = recorder();
    const queue = new MemoryQueue({ dir, log });
    assert.deepEqual(
      (await queue.receive('q')).map((r) => r.body),
      ['kept'],
    );
    await queue.close();
    await rm(dir, { recursive: true, force: true });
    assert.deepEqual(
      log.lines.map(([level, message, extra]) => [level, message, extra?.file, extra?.line]),
      [['warn', 'queue journal: skipping an unreadable line', path.join(dir, 'q.jsonl'), 2]],
    );
  });

  it('SqsQueue reports a dead-lettered message to the injected logger', async () => {
    const client = {
      send: async (command: object) => {
        const name = command.constructor.name;
        if (name === 'GetQueueUrlCommand') return { QueueUrl: 'http://sqs/q' };
        if (name === 'GetQueueAttributesCommand') return { Attributes: {} };
        return {};
      },
    } as unknown as SQSClient;
    const log = recorder();
    await new SqsQueue({ region: 'us-east-1', client, log }).deadLetter('resize_queue', '{}', 'InvalidMessageError: bad');
    assert.deepEqual(log.lines, [
      [
        'warn',
        'message dead-lettered',
        { queue: 'resize_queue', dead_letter_queue: 'resize_queue_dlq', reason: 'InvalidMessageError: bad' },
      ],
    ]);
  });

  it('createPorts hands its logger to the queue it makes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'port-logger-'));
    const log = recorder();
    const ports = createPorts(loadConfig({ DATA_DIR: dir }), { log, persistQueues: false });
    await ports.queue.send('q', 'x');
    const [m] = await ports.queue.receive('q', { visibilityTimeoutSeconds: 0 });
    await ports.queue.receive('q');
    await ports.queue.delete('q', m!.receiptHandle);
    await ports.close();
    await rm(dir, { recursive: true, force: true });
    assert.deepEqual(
      log.lines.map(([level, message]) => [level, message]),
      [['warn', 'delete ignored: the receipt handle is stale; the message will be delivered again']],
    );
  });
});
