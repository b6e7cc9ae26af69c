import middy from '@middy/core';
import { createApp } from '../../src/app/createApp';
import { detectHandler } from '../../src/lambda/detectHandler';
import { lambdaMiddlewares } from '../../src/lambda/middlewares';

/** Built once per container, at init: config, logger, store, queue, detector, metrics. */
const app = createApp();

/** SQS detect stage (partial batch failures); the work is in src/stages/detectStage.ts. */
export const handler = middy(detectHandler(app)).use(lambdaMiddlewares(app));
