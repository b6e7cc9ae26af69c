import type { APIGatewayProxyResult } from 'aws-lambda';
import type { App } from '../app/createApp';
import { childLogger } from '../logger/createLogger';
import { handleUpload } from '../upload/handleUpload';
import { type ApiEvent, toApiGatewayResult, toApiRequest } from './apiEvent';

/** POST /upload for this app; the work is in src/upload/. */
export function uploadHandler(app: App): (event: ApiEvent) => Promise<APIGatewayProxyResult> {
  return async (event) => {
    const req = toApiRequest(event);
    const log = childLogger(app.log, { stage: 'upload', request_id: req.requestId });
    return toApiGatewayResult(await handleUpload(req, { ...app, log }));
  };
}
