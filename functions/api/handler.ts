import middy from '@middy/core';
import { handleApi } from '../../src/lambda/apiHandler';

/**
 * The read API and the gallery (API Gateway REST v1 or HTTP API v2): GET /, GET /images,
 * GET /images/{id}, GET /images/{id}/{kind}, GET /metrics. Image bodies are base64 with
 * isBase64Encoded (a REST API needs binary media types `image/*` for that).
 */
export const handler = middy(handleApi);
