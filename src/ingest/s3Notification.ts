import { z } from 'zod';
import { parseMessage } from '../domain/messages';

/**
 * The bucket's event notification as it reaches `ingest_queue`: the S3 event message
 * (`{"Records": [{eventName, s3: {bucket: {name}, object: {key, size}}}]}`), which S3 on AWS and
 * MiniStack send to SQS, MinIO's webhook target POSTs (the dev stack's relay forwards it as it is),
 * and the embedded runtime writes for its own folder store (objectCreatedNotification). Keys in it
 * are URL-encoded (`+` for a space); `s3:TestEvent`, which S3 sends once when the notification is
 * configured, names no object.
 */
const S3RecordSchema = z.object({
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), size: z.number().optional() }),
  }),
});

const S3EventSchema = z.union([
  z.object({ Event: z.literal('s3:TestEvent') }).passthrough(),
  z.object({ Records: z.array(S3RecordSchema).min(1) }).passthrough(),
]);

export interface CreatedObject {
  bucket: string;
  /** Decoded: the object's real key. */
  key: string;
  size?: number;
}

export type S3Notification = { kind: 'test' } | { kind: 'records'; created: CreatedObject[]; otherEvents: string[] };

/** AWS writes `ObjectCreated:Put`, MinIO `s3:ObjectCreated:Put`. */
const OBJECT_CREATED = /^(s3:)?ObjectCreated:/;

/** A key of an S3 event record: URL-encoded, with `+` for a space. */
export function decodeEventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/** Parses a notification; InvalidMessageError (bad input, dead-lettered) for anything else. */
export function parseS3Notification(body: string): S3Notification {
  const event = parseMessage(S3EventSchema, body, 'bucket notification');
  if ('Event' in event) return { kind: 'test' };
  const created: CreatedObject[] = [];
  const otherEvents: string[] = [];
  for (const record of event.Records) {
    if (!OBJECT_CREATED.test(record.eventName)) {
      otherEvents.push(record.eventName);
      continue;
    }
    let key: string;
    try {
      key = decodeEventKey(record.s3.object.key);
    } catch {
      // Malformed percent-encoding: kept as it came, so the key check refuses it with its text.
      key = record.s3.object.key;
    }
    created.push({ bucket: record.s3.bucket.name, key, ...(record.s3.object.size !== undefined ? { size: record.s3.object.size } : {}) });
  }
  return { kind: 'records', created, otherEvents };
}

/** The notification the embedded runtime queues for an object its folder store wrote (the S3 shape, trimmed). */
export function objectCreatedNotification(bucket: string, key: string, size?: number, now = new Date()): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'embedded:s3',
        eventTime: now.toISOString(),
        eventName: 'ObjectCreated:Post',
        s3: {
          bucket: { name: bucket },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), ...(size !== undefined ? { size } : {}) },
        },
      },
    ],
  });
}
