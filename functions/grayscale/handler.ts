import middy from '@middy/core';
import { createApp } from '../../src/app/createApp';
import { grayscaleHandler } from '../../src/lambda/grayscaleHandler';
import { lambdaMiddlewares } from '../../src/lambda/middlewares';

/** Built once per container, at init: config, logger, store, queue, detector, metrics. */
const app = createApp();

/** SQS grayscale stage (partial batch failures); the work is in src/stages/grayscaleStage.ts. */
export const handler = middy(grayscaleHandler(app)).use(lambdaMiddlewares(app));
