import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { App } from '../app/createApp';
import type { QueueStageName } from '../domain/stages';
import { processMessage } from '../stages/processMessage';
import type { Stage } from '../stages/Stage';

/**
 * A Lambda handler for an SQS-triggered stage of this app that reports partial batch failures
 * (ReportBatchItemFailures): a record that throws is retried alone, its neighbours are deleted.
 */
export function sqsStageHandler<N extends QueueStageName>(
  stage: Stage<N>,
  app: App,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const recordHandler = async (record: SQSRecord) => {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
    await processMessage(stage, record.body, receiveCount, app);
  };
  return async (event, context) => {
    // A processor per invocation: it keeps the batch's successes and failures as state, and the
    // embedded runtime runs several batches of one stage at once (Lambda runs one per container).
    // A shared one mixed them up and reported a failed record as done, losing its message.
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
  };
}
