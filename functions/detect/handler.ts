import middy from '@middy/core';
import { sqsStageHandler } from '../../src/lambda/sqsStageHandler';
import { detectStage } from '../../src/stages/detectStage';

/** SQS detect stage; the work is in src/stages/detectStage.ts. */
export const handler = middy(sqsStageHandler(detectStage));
