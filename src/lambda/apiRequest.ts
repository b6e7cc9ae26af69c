import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';

/** API Gateway REST (v1) and HTTP API (v2) events, reduced to what our routes need. */
export type ApiEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

export interface ApiRequest {
  method: string;
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  pathParameters: Record<string, string | undefined>;
  body: Buffer;
  requestId?: string;
}

export function toApiRequest(event: ApiEvent): ApiRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v ?? undefined;
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

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(statusCode: number, code: string, message: string, requestId?: string): APIGatewayProxyResult {
  return jsonResponse(statusCode, { error: { code, message }, request_id: requestId });
}
