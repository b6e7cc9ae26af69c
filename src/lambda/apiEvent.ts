import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import type { ApiRequest } from '../http/ApiRequest';
import type { ApiResponse } from '../http/ApiResponse';

/** API Gateway REST (v1) and HTTP API (v2) events, reduced to what our routes need. */
export type ApiEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/**
 * The request the API core sees. Header names are already lower case: functions/ run
 * @middy/http-header-normalizer, and the embedded server's come from Node's HTTP parser.
 */
export function toApiRequest(event: ApiEvent): ApiRequest {
  const headers: Record<string, string | undefined> = { ...event.headers };
  const isV2 = 'requestContext' in event && 'http' in (event.requestContext ?? {});
  const method = isV2 ? (event as APIGatewayProxyEventV2).requestContext.http.method : (event as APIGatewayProxyEvent).httpMethod;
  const path = isV2 ? (event as APIGatewayProxyEventV2).rawPath : (event as APIGatewayProxyEvent).path;
  const raw = event.body ?? '';
  return {
    method: (method ?? 'GET').toUpperCase(),
    path: path ?? '/',
    headers,
    query: { ...(event.queryStringParameters ?? {}) },
    pathParameters: { ...(event.pathParameters ?? {}) },
    // Binary bodies arrive base64-encoded (API Gateway binary media types, serverless-offline multipart).
    body: Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8'),
    requestId: event.requestContext?.requestId,
  };
}

/** The core's answer as API Gateway wants it. */
export function toApiGatewayResult(res: ApiResponse): APIGatewayProxyResult {
  return {
    statusCode: res.statusCode,
    headers: res.headers,
    body: res.body,
    ...(res.isBase64Encoded !== undefined ? { isBase64Encoded: res.isBase64Encoded } : {}),
  };
}
