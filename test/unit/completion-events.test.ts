import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { devWebhookFrom, webhookEnvironment } from '../../scripts/dev/webhookDeliverer';
import { loadConfig } from '../../src/config';
import type { PipelineEvent } from '../../src/domain/imageEvents';
import { newImageId } from '../../src/domain/imageId';
import { imageKey } from '../../src/domain/keys';
import { ownerLabelKey } from '../../src/domain/owners';
import { EventBridgePublisher } from '../../src/ports/EventBridgePublisher';
import { deliverWebhook } from '../../src/ports/WebhookPublisher';
import { webhookSignature, webhookSignatureProblem } from '../../src/ports/webhookSignature';
import { processMessage } from '../../src/stages/processMessage';
import { resizeStage } from '../../src/stages/resizeStage';
import { tagStage } from '../../src/stages/tagStage';
import { readStageStatuses } from '../../src/status/photoStatus';
import { writeUploadRecord } from '../../src/status/stageStatus';
import { eventRecorder, type TestApp, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';
import { holdRecord } from '../helpers/photoRecords';

const dog = { label: 'dog', score: 0.9, box: { x: 10, y: 10, width: 50, height: 40 } };

/** Alice's photo as the upload stage leaves it: its original (unless null) and its record, her index entry. */
async function photo(app: TestApp, bytes: Buffer | null = readFixture('dog.jpg')) {
  const id = newImageId();
  const original_path = imageKey('original', id);
  if (bytes) await app.store.put(original_path, bytes, { contentType: 'image/jpeg' });
  await writeUploadRecord(
    app.store,
    { imageId: id, owner: 'alice' },
    { stage: 'upload', state: 'done', started_at: new Date().toISOString(), output_key: original_path },
  );
  return { id, original_path, request_id: 'req-1', photo: { imageId: id, owner: 'alice' } };
}

const tagBody = (p: { id: string; original_path: string }) =>
  JSON.stringify({
    v: 2,
    owner: 'alice',
    image_id: p.id,
    original_path: p.original_path,
    request_id: 'req-1',
    origin_h: 576,
    origin_w: 768,
    detections: [dog, dog],
  });
const resizeBody = (p: { id: string; original_path: string }) =>
  JSON.stringify({ v: 2, owner: 'alice', image_id: p.id, original_path: p.original_path, request_id: 'req-1' });

describe('completion events from processMessage', () => {
  it('publishes one "Image Tagged" when the last stage is done, with the outputs and detections', async () => {
    const app = testApp();
    const events = eventRecorder();
    const p = await photo(app);
    assert.equal(await processMessage(tagStage, tagBody(p), 1, { ...app, events }), 'done');
    assert.equal(events.events.length, 1);
    const [event] = events.events;
    assert.equal(event!.detailType, 'Image Tagged');
    assert.equal(event!.id, `${p.id}:tagged`);
    assert.deepEqual(event!.detail, {
      event_id: `${p.id}:tagged`,
      image_id: p.id,
      owner: 'alice',
      status: 'tagged',
      bucket: 'images',
      outputs: {
        original: p.original_path,
        resized: imageKey('resized', p.id),
        grayscale: imageKey('grayscale', p.id),
        tagged: imageKey('tagged', p.id),
      },
      detections: [dog, dog],
      labels: ['dog'],
      request_id: 'req-1',
    });
    // The index and the tagged image are both there by then.
    assert.equal(await app.store.exists(imageKey('tagged', p.id)), true);
    assert.equal(await app.store.exists(ownerLabelKey('alice', 'dog', p.id)), true);
    await app.close();
  });

  it('publishes "Image Failed" at once for bad input, before the dead letter, with the outputs so far', async () => {
    const app = testApp();
    const events = eventRecorder();
    const p = await photo(app, Buffer.from('not a jpeg at all'));
    assert.equal(await processMessage(resizeStage, resizeBody(p), 1, { ...app, events }), 'dead-lettered');
    assert.equal(events.events.length, 1);
    const detail = events.events[0]!.detail as Record<string, unknown>;
    assert.equal(events.events[0]!.detailType, 'Image Failed');
    assert.deepEqual(
      [detail.owner, detail.status, detail.stage, detail.attempt, detail.outputs],
      ['alice', 'failed', 'resize', 1, { original: p.original_path }],
    );
    assert.match(String(detail.reason), /^UnsupportedImageError: /);
    assert.equal((await app.queue.listDeadLetters('resize_queue')).length, 1);
    await app.close();
  });

  it('publishes "Image Failed" for a retried fault only on the last receive', async () => {
    const app = testApp();
    const events = eventRecorder();
    const p = await photo(app, null); // the original never arrives: retried (ObjectNotFoundError)
    for (const receive of [1, 2]) {
      await assert.rejects(processMessage(resizeStage, resizeBody(p), receive, { ...app, events }), { name: 'ObjectNotFoundError' });
      assert.equal(events.events.length, 0, `receive ${receive}: not yet`);
    }
    await assert.rejects(processMessage(resizeStage, resizeBody(p), 3, { ...app, events }), { name: 'ObjectNotFoundError' });
    assert.equal(events.events.length, 1);
    const detail = events.events[0]!.detail as Record<string, unknown>;
    assert.deepEqual(
      [detail.stage, detail.attempt, detail.reason],
      ['resize', 3, `ObjectNotFoundError: object not found: ${p.original_path}`],
    );
    await app.close();
  });

  it('a failure to publish retries the record and never turns a done photo into a failure', async () => {
    const app = testApp();
    const events = eventRecorder();
    const p = await photo(app);
    // As detect leaves it before tag's message is sent: its outcome in the photo's record (the
    // status API looks for the tagged image only once detect is recorded).
    const t = new Date().toISOString();
    await holdRecord(app.store, p.photo, { stage: 'detect', state: 'done', started_at: t, finished_at: t, detections: [dog, dog] });
    events.failing = true;
    await assert.rejects(processMessage(tagStage, tagBody(p), 1, { ...app, events }), {
      message: 'PutEvents: AccessDeniedException (test)',
    });
    assert.equal((await readStageStatuses(app.store, p.photo)).tag?.state, 'done');
    // On the last receive as well: the photo stays done; the redrive policy keeps the message.
    await assert.rejects(processMessage(tagStage, tagBody(p), 3, { ...app, events }));
    assert.equal((await readStageStatuses(app.store, p.photo)).tag?.state, 'done');
    assert.ok(app.logs.some((l) => l.message === 'completion event not published; the message stays in the DLQ; redrive it once fixed'));
    // Fixed: the retry (or the redrive) publishes it.
    events.failing = false;
    assert.equal(await processMessage(tagStage, tagBody(p), 1, { ...app, events }), 'done');
    assert.deepEqual(
      events.events.map((e) => e.detailType),
      ['Image Tagged'],
    );
    await app.close();
  });

  it('bad input whose event cannot be published is retried, and dead-lettered once it is', async () => {
    const app = testApp();
    const events = eventRecorder();
    const p = await photo(app, Buffer.from('garbage'));
    events.failing = true;
    await assert.rejects(processMessage(resizeStage, resizeBody(p), 1, { ...app, events }));
    assert.equal((await app.queue.listDeadLetters('resize_queue')).length, 0);
    events.failing = false;
    assert.equal(await processMessage(resizeStage, resizeBody(p), 2, { ...app, events }), 'dead-lettered');
    assert.equal((await app.queue.listDeadLetters('resize_queue')).length, 1);
    assert.equal(events.events.length, 1);
    await app.close();
  });

  it('publishes nothing for a message with no photo (invalid)', async () => {
    const app = testApp();
    const events = eventRecorder();
    assert.equal(await processMessage(tagStage, '{"v":1,"image_id":"../x"}', 1, { ...app, events }), 'dead-lettered');
    assert.deepEqual(events.events, []);
    await app.close();
  });
});

describe('webhook signature and delivery', () => {
  const secret = 'a-test-secret-of-32-characters!!';

  it('signs "<timestamp>.<body>"; the check refuses a changed body, another secret, an old timestamp', () => {
    const body = '{"id":"x"}';
    const sig = webhookSignature(secret, '1700000000', body);
    assert.match(sig, /^sha256=[0-9a-f]{64}$/);
    const check = (headers: { timestamp?: string; signature?: string }, b = body, s = secret) =>
      webhookSignatureProblem(s, headers, b, { nowSeconds: 1_700_000_100 });
    assert.equal(check({ timestamp: '1700000000', signature: sig }), undefined);
    assert.equal(check({ timestamp: '1700000000', signature: sig }, '{"id":"y"}'), 'x-image-pipeline-signature does not match the body');
    assert.equal(
      check({ timestamp: '1700000000', signature: sig }, body, 'another-secret-of-enough-length'),
      'x-image-pipeline-signature does not match the body',
    );
    assert.equal(check({ timestamp: '1700000001', signature: sig }), 'x-image-pipeline-signature does not match the body');
    assert.equal(
      webhookSignatureProblem(secret, { timestamp: '1700000000', signature: sig }, body, { nowSeconds: 1_700_000_301 }),
      'expected a timestamp within 300 s of now, got 301 s off',
    );
    assert.equal(check({ signature: sig }), 'expected x-image-pipeline-timestamp in Unix seconds, got null');
  });

  it('POSTs the JSON with its id, timestamp and signature; anything but a 2xx throws', async () => {
    const seen: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    let answer = 204;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(answer).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=t0ps3cret`;
    try {
      const body = JSON.stringify({ id: 'abc:tagged', detail: { image_id: 'abc' } });
      await deliverWebhook(body, { url, secret, nowSeconds: () => 1_700_000_000 });
      assert.equal(seen[0]!.body, body);
      assert.equal(seen[0]!.headers['content-type'], 'application/json');
      assert.equal(seen[0]!.headers['x-image-pipeline-event-id'], 'abc:tagged');
      assert.equal(seen[0]!.headers['x-image-pipeline-timestamp'], '1700000000');
      assert.equal(seen[0]!.headers['x-image-pipeline-signature'], webhookSignature(secret, '1700000000', body));
      answer = 500;
      // The message names the receiver without its query (a token there is a secret).
      await assert.rejects(deliverWebhook(body, { url, secret }), {
        name: 'WebhookDeliveryError',
        message: `webhook POST ${url.split('?')[0]}: expected a 2xx answer, got HTTP 500`,
      });
    } finally {
      server.close();
    }
    await assert.rejects(
      deliverWebhook('{}', { url, secret }),
      (e: Error) => e.name === 'WebhookDeliveryError' && /^webhook POST .* failed: /.test(e.message),
    );
  });
});

describe('EventBridgePublisher', () => {
  const event: PipelineEvent = { detailType: 'Image Tagged', id: 'i:tagged', time: '2026-01-01T00:00:00.000Z', detail: { image_id: 'i' } };
  const stub = (answer: () => unknown) => {
    const sent: unknown[] = [];
    const client = {
      send: async (command: { input: unknown }) => {
        sent.push(command.input);
        return answer();
      },
      destroy: () => undefined,
    };
    return {
      sent,
      publisher: new EventBridgePublisher({ region: 'us-east-1', bus: 'default', client: client as unknown as EventBridgeClient }),
    };
  };

  it('puts one entry on the bus: source image-pipeline, the detail type, the detail as JSON', async () => {
    const { sent, publisher } = stub(() => ({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] }));
    await publisher.publish(event);
    assert.deepEqual(sent, [
      {
        Entries: [
          {
            EventBusName: 'default',
            Source: 'image-pipeline',
            DetailType: 'Image Tagged',
            Detail: '{"image_id":"i"}',
            Time: new Date(event.time),
          },
        ],
      },
    ]);
  });

  it('throws a retryable error for a refused entry or call', async () => {
    const refused = stub(() => ({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try later' }] }));
    await assert.rejects(refused.publisher.publish(event), {
      name: 'EventPublishError',
      message: 'PutEvents Image Tagged on default: the entry was refused (InternalFailure: try later)',
    });
    const denied = stub(() => {
      throw Object.assign(new Error('not authorized to perform events:PutEvents'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      });
    });
    await assert.rejects(denied.publisher.publish(event), (e: Error & { retryable?: boolean }) => {
      assert.equal(e.name, 'EventPublishError');
      assert.equal(
        e.message,
        'PutEvents Image Tagged on default failed: AccessDeniedException: not authorized to perform events:PutEvents',
      );
      assert.equal(e.retryable, true);
      return true;
    });
  });
});

describe('events config', () => {
  it('is off by default, webhook with WEBHOOK_URL, and refuses a webhook it cannot sign or reach', () => {
    assert.equal(loadConfig({}).events.target, 'off');
    const hook = loadConfig({ WEBHOOK_URL: 'https://example.test/hook', WEBHOOK_SECRET: 'x'.repeat(16) }).events;
    assert.deepEqual([hook.target, hook.queue, hook.webhookRetrySeconds], ['webhook', 'events_queue', 30]);
    assert.equal(loadConfig({ EVENTS: 'eventbridge' }).events.bus, 'default');
    assert.throws(() => loadConfig({ EVENTS: 'webhook' }), {
      message: 'WEBHOOK_URL: expected an http or https URL when EVENTS is webhook, got nothing',
    });
    assert.throws(() => loadConfig({ WEBHOOK_URL: 'file:///etc/passwd', WEBHOOK_SECRET: 'x'.repeat(16) }), {
      message: 'WEBHOOK_URL: expected an http or https URL, got "file:///etc/passwd"',
    });
    assert.throws(() => loadConfig({ WEBHOOK_URL: 'http://127.0.0.1/h', WEBHOOK_SECRET: 'short' }), {
      name: 'ConfigError',
      message: 'WEBHOOK_SECRET: expected at least 16 characters to sign webhook deliveries with, got 5',
    });
    assert.throws(() => loadConfig({ EVENTS: 'sns' }), { message: 'EVENTS: expected one of eventbridge, webhook, off, got "sns"' });
  });
});

describe("npm run dev's webhook settings (scripts/dev/webhookDeliverer.ts)", () => {
  it('takes the webhook from the config only with EVENTS=webhook, and gives the functions and the deliverer the same settings', () => {
    const secret = 'dev-webhook-secret-0123456789';
    const webhook = devWebhookFrom(
      loadConfig({ WEBHOOK_URL: 'http://127.0.0.1:8080/hooks', WEBHOOK_SECRET: secret, WEBHOOK_RETRY_SECONDS: '5' }),
    );
    assert.deepEqual(webhook, { url: 'http://127.0.0.1:8080/hooks', secret, retrySeconds: 5 });
    assert.equal(devWebhookFrom(loadConfig({})), undefined);
    assert.equal(devWebhookFrom(loadConfig({ EVENTS: 'off', WEBHOOK_URL: 'http://127.0.0.1:8080/hooks' })), undefined);
    // The dev stack's config, with a shell that says otherwise: the webhook's settings win.
    const config = loadConfig({ EVENTS: 'eventbridge', EVENTS_QUEUE: 'other_queue', ...webhookEnvironment(webhook) });
    assert.deepEqual(
      [config.events.target, config.events.queue, config.events.webhookUrl, config.events.webhookRetrySeconds],
      ['webhook', 'events_queue', 'http://127.0.0.1:8080/hooks', 5],
    );
    // No webhook: off and empty, whatever WEBHOOK_URL the shell has.
    const off = loadConfig({ WEBHOOK_URL: 'http://127.0.0.1:8080/hooks', ...webhookEnvironment(undefined) });
    assert.deepEqual([off.events.target, off.events.webhookUrl], ['off', undefined]);
  });
});
