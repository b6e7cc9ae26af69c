import middy from '@middy/core';
import { sqsStageHandler } from '../../src/lambda/sqsStageHandler';
import { tagStage } from '../../src/stages/tagStage';

/** SQS tag stage; the work is in src/stages/tagStage.ts. */
export const handler = middy(sqsStageHandler(tagStage));
