import middy from '@middy/core';
import { createApp } from '../../src/app/createApp';
import { httpMiddlewares } from '../../src/lambda/middlewares';
import { uploadHandler } from '../../src/lambda/uploadHandler';

/** Built once per container, at init: config, logger, store, queue, metrics. */
const app = createApp();

/** POST /upload (API Gateway REST v1 or HTTP API v2); the work is in src/upload/. */
export const handler = middy(uploadHandler(app)).use(httpMiddlewares(app));
