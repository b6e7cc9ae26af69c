import middy from '@middy/core';
import { sqsStageHandler } from '../../src/lambda/sqsStageHandler';
import { grayscaleStage } from '../../src/stages/grayscaleStage';

/** SQS grayscale stage; the work is in src/stages/grayscaleStage.ts. */
export const handler = middy(sqsStageHandler(grayscaleStage));
