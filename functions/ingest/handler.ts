import middy from '@middy/core';
import { createApp } from '../../src/app/createApp';
import { ingestHandler } from '../../src/lambda/ingestHandler';
import { lambdaMiddlewares } from '../../src/lambda/middlewares';

/** Built once per container, at init: config, logger, store, queue, metrics (the detector is never loaded here). */
const app = createApp();

/** ingest_queue: the bucket's ObjectCreated notifications for uploads/; the work is in src/ingest/. */
export const handler = middy(ingestHandler(app)).use(lambdaMiddlewares(app));
