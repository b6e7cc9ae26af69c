import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processMessage } from '../stages/processMessage';
import type { Stage } from '../stages/Stage';
import { runtimeDeps } from './runtimeDeps';

/**
 * A Lambda handler for an SQS-triggered stage that reports partial batch failures
 * (ReportBatchItemFailures): a record that throws is retried alone, its neighbours are deleted.
 */
export function sqsStageHandler<In extends { image_id: string; request_id?: string }, Out>(stage: Stage<In, Out>) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // A processor per invocation: it keeps the batch's successes and failures as state, and the
    // embedded runtime runs several batches of one stage at once (Lambda runs one per container).
    // A shared one mixed them up and reported a failed record as done, losing its message.
    const processor = new BatchProcessor(EventType.SQS);
    const deps = runtimeDeps();
    const recordHandler = async (record: SQSRecord) => {
      const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
      await processMessage(stage, record.body, receiveCount, deps);
    };
    return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
  };
}
