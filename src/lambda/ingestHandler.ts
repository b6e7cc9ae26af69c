import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { App } from '../app/createApp';
import { ingestNotification } from '../ingest/ingestNotification';

/**
 * The bucket's ObjectCreated notifications for `uploads/` on `ingest_queue` (functions/ingest, the
 * embedded runtime, the dev stack's relay): each record is one notification, ingested by
 * src/ingest/ingestNotification.ts; a record that throws (a fault) is a batch item failure and is
 * retried alone. Records are taken one after the other, so the function holds one photo (up to
 * MAX_BUCKET_UPLOAD_BYTES) at a time whatever the batch size.
 */
export function ingestHandler(app: App): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const recordHandler = async (record: SQSRecord) => {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
    await ingestNotification(record.body, { messageId: record.messageId, receiveCount }, app);
  };
  return async (event, context) => {
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false, processInParallel: false });
  };
}
