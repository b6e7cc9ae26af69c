import type { APIGatewayProxyResult } from 'aws-lambda';
import type { App } from '../app/createApp';
import { assertNoneModeIsPrivate } from '../auth/noneModeRule';
import { childLogger } from '../logger/createLogger';
import { routeUpload } from '../upload/routeUpload';
import { type ApiEvent, toApiGatewayResult, toApiRequest } from './apiEvent';

/**
 * The write side of the API for this app: POST /upload (the photo in the body), POST /uploads (a
 * form to the bucket) and DELETE /images/{id} (the owner takes a photo back); the work is in src/upload/.
 */
export function uploadHandler(app: App): (event: ApiEvent) => Promise<APIGatewayProxyResult> {
  // At init: a function behind API Gateway with AUTH=none fails to start rather than take everyone's photos.
  assertNoneModeIsPrivate(app.config.auth, {});
  return async (event) => {
    const req = toApiRequest(event, app.config.http.requestTimeoutSeconds);
    const log = childLogger(app.log, { stage: 'upload', request_id: req.requestId });
    const { publicUrl } = app.config.http;
    return toApiGatewayResult(await routeUpload(req, { ...app, log, ...(publicUrl !== undefined ? { publicUrl } : {}) }));
  };
}
