import middy from '@middy/core';
import { createApp } from '../../src/app/createApp';
import { apiHandler } from '../../src/lambda/apiHandler';
import { httpMiddlewares } from '../../src/lambda/middlewares';

/** Built once per container, at init: config, logger, store, metrics. */
const app = createApp();

/**
 * The read API and the gallery (API Gateway REST v1 or HTTP API v2): the `api` routes of
 * src/http/routes.ts. Image bodies are base64 with isBase64Encoded (a REST API needs binary media
 * types `image/*` for that).
 */
export const handler = middy(apiHandler(app)).use(httpMiddlewares(app));
