import type { APIGatewayProxyResult } from 'aws-lambda';
import { routeApi } from '../api/routeApi';
import { type ApiEvent, toApiRequest } from './apiRequest';
import { runtimeDeps } from './runtimeDeps';

/** GET /, /images, /images/{id}, /images/{id}/{kind}, /metrics; the work is in src/api/. */
export async function handleApi(event: ApiEvent): Promise<APIGatewayProxyResult> {
  const deps = runtimeDeps();
  const req = toApiRequest(event);
  return routeApi(req, { ...deps, log: deps.log.child({ stage: 'api', request_id: req.requestId }) });
}
