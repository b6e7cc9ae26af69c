import middy from '@middy/core';
import { createApp } from '../../src/app/createApp';
import { lambdaMiddlewares } from '../../src/lambda/middlewares';
import { tagHandler } from '../../src/lambda/tagHandler';

/** Built once per container, at init: config, logger, store, queue, detector, metrics. */
const app = createApp();

/** SQS tag stage (partial batch failures); the work is in src/stages/tagStage.ts. */
export const handler = middy(tagHandler(app)).use(lambdaMiddlewares(app));
