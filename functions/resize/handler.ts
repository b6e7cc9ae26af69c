import middy from '@middy/core';
import { createApp } from '../../src/app/createApp';
import { lambdaMiddlewares } from '../../src/lambda/middlewares';
import { resizeHandler } from '../../src/lambda/resizeHandler';

/** Built once per container, at init: config, logger, store, queue, detector, metrics. */
const app = createApp();

/** SQS resize stage (partial batch failures); the work is in src/stages/resizeStage.ts. */
export const handler = middy(resizeHandler(app)).use(lambdaMiddlewares(app));
