import { Readable } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import type { ApiRequest } from '../http/ApiRequest';
import type { ApiResponse } from '../http/ApiResponse';

/** API Gateway REST (v1) and HTTP API (v2) events, reduced to what our routes need. */
export type ApiEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/**
 * The request the API core sees. Header names are already lower case: functions/ run
 * @middy/http-header-normalizer. The body is the event's, decoded once (API Gateway base64-encodes
 * binary bodies; serverless-offline multipart ones), read through the same stream as the embedded
 * server's, within `timeoutSeconds`.
 */
export function toApiRequest(event: ApiEvent, timeoutSeconds: number): ApiRequest {
  const headers: Record<string, string | undefined> = { ...event.headers };
  const isV2 = 'requestContext' in event && 'http' in (event.requestContext ?? {});
  const v2 = event as APIGatewayProxyEventV2;
  const v1 = event as APIGatewayProxyEvent;
  const method = isV2 ? v2.requestContext.http.method : v1.httpMethod;
  const path = isV2 ? v2.rawPath : v1.path;
  const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const sourceIp = isV2 ? v2.requestContext.http.sourceIp : v1.requestContext?.identity?.sourceIp;
  return {
    method: (method ?? 'GET').toUpperCase(),
    path: path ?? '/',
    headers,
    query: { ...(event.queryStringParameters ?? {}) },
    pathParameters: { ...(event.pathParameters ?? {}) },
    body: Readable.from(bytes.length ? [bytes] : [], { objectMode: false }),
    bodyLength: bytes.length,
    signal: AbortSignal.timeout(timeoutSeconds * 1000),
    ...(sourceIp ? { sourceIp } : {}),
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
