/**
 * What the API core answers, free of Lambda: each adapter maps it (src/lambda to API Gateway's
 * result; the embedded server writes it to its socket). A binary body is base64 with isBase64Encoded.
 * An image is answered with a presigned URL of the store (S3's, or the folder store's, which the
 * embedded server streams from its file: src/runtime/bucketGet.ts); only a store that makes no URLs
 * has its bytes here.
 */
export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(statusCode: number, code: string, message: string, requestId?: string): ApiResponse {
  return jsonResponse(statusCode, { error: { code, message }, request_id: requestId });
}

/** The JSON answer of an HttpError, with the headers it must carry. */
export function httpErrorResponse(
  error: { statusCode: number; code: string; message: string; headers?: Record<string, string> },
  requestId?: string,
): ApiResponse {
  const res = errorResponse(error.statusCode, error.code, error.message, requestId);
  return { ...res, headers: { ...res.headers, ...(error.headers ?? {}) } };
}
