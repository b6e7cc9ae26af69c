import middy from '@middy/core';
import { createApp } from '../../src/app/createApp';
import { lambdaMiddlewares } from '../../src/lambda/middlewares';
import { sqsStageHandler } from '../../src/lambda/sqsStageHandler';
import { grayscaleStage } from '../../src/lambda/stages';

/** Built once per container, at init: config, logger, store, queue, detector, metrics. */
const app = createApp();

/** SQS grayscale stage (partial batch failures); the work is in src/stages/grayscaleStage.ts. */
export const handler = middy(sqsStageHandler(grayscaleStage, app)).use(lambdaMiddlewares(app));
