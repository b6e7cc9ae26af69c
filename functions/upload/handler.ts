import middy from '@middy/core';
import { handleUpload } from '../../src/lambda/uploadHandler';

/** POST /upload (API Gateway REST v1 or HTTP API v2); the work is in src/upload/. */
export const handler = middy(handleUpload);
