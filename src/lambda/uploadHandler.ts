import type { APIGatewayProxyResult } from 'aws-lambda';
import type { App } from '../app/createApp';
import { assertNoneModeIsPrivate } from '../auth/noneModeRule';
import { errorResponse } from '../http/ApiResponse';
import { matchRoute, routeNames } from '../http/routes';
import { childLogger } from '../logger/createLogger';
import { handleCreateUpload } from '../upload/createUpload';
import { handleDeleteImage } from '../upload/handleDeleteImage';
import { handleUpload } from '../upload/handleUpload';
import { type ApiEvent, toApiGatewayResult, toApiRequest } from './apiEvent';

/**
 * The write side of the API for this app: POST /upload (the photo in the body), POST /uploads (a
 * form to the bucket) and DELETE /images/{id} (the owner takes a photo back); the work is in src/upload/.
 */
export function uploadHandler(app: App): (event: ApiEvent) => Promise<APIGatewayProxyResult> {
  // At init: a function behind API Gateway with AUTH=none fails to start rather than take everyone's photos.
  assertNoneModeIsPrivate(app.config.auth, {});
  return async (event) => {
    const req = toApiRequest(event);
    const log = childLogger(app.log, { stage: 'upload', request_id: req.requestId });
    const match = matchRoute(req.path, 'upload');
    const route = match?.route.path;
    if (route === '/uploads') return toApiGatewayResult(await handleCreateUpload(req, { ...app, log }));
    if (route === '/upload') return toApiGatewayResult(await handleUpload(req, { ...app, log }));
    if (route === '/images/{id}' && req.method === 'DELETE') {
      return toApiGatewayResult(await handleDeleteImage(req, match?.params.id ?? '', { ...app, log }));
    }
    return toApiGatewayResult(
      errorResponse(
        404,
        'not_found',
        `no route for ${req.method} ${req.path}; expected one of ${routeNames('upload').join(', ')}`,
        req.requestId,
      ),
    );
  };
}
