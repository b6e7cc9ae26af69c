import type { APIGatewayProxyResult } from 'aws-lambda';
import { routeApi } from '../api/routeApi';
import type { App } from '../app/createApp';
import { assertNoneModeIsPrivate } from '../auth/noneModeRule';
import { childLogger } from '../logger/createLogger';
import { type ApiEvent, toApiGatewayResult, toApiRequest } from './apiEvent';

/** The `api` routes of src/http/routes.ts (the gallery, the status API, the label search) for this app; the work is in src/api/. */
export function apiHandler(app: App): (event: ApiEvent) => Promise<APIGatewayProxyResult> {
  // At init: a function behind API Gateway with AUTH=none fails to start rather than serve everyone.
  assertNoneModeIsPrivate(app.config.auth, {});
  return async (event) => {
    const req = toApiRequest(event, app.config.http.requestTimeoutSeconds);
    const log = childLogger(app.log, { stage: 'api', request_id: req.requestId });
    return toApiGatewayResult(await routeApi(req, { ...app, log }));
  };
}
