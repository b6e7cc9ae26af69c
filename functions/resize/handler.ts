import middy from '@middy/core';
import { sqsStageHandler } from '../../src/lambda/sqsStageHandler';
import { resizeStage } from '../../src/stages/resizeStage';

/** SQS resize stage; the work is in src/stages/resizeStage.ts. */
export const handler = middy(sqsStageHandler(resizeStage));
