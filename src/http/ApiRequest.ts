import type { Readable } from 'node:stream';

/** An HTTP request as the API core sees it, whatever carried it (API Gateway v1 or v2, the embedded server). */
export interface ApiRequest {
  method: string;
  path: string;
  /** Lower-cased names (the Lambda adapter's header normalizer, Node's HTTP server). */
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  pathParameters: Record<string, string | undefined>;
  /**
   * The body, to be read at most once (src/http/readBody.ts, src/upload/readUploadBody.ts): the
   * embedded server's request as it streams in, or the bytes of a Lambda event.
   */
  body: Readable;
  /** The body's length when known before reading it: a Lambda event's bytes, a declared content-length. */
  bodyLength?: number;
  /**
   * Aborts when the request's deadline passes (a 408 HttpError) or its client goes away (a
   * ClientGoneError): every read of the body ends there.
   */
  signal: AbortSignal;
  /** The client's address as the front door saw it (the socket's peer; API Gateway's sourceIp), never a header's claim. */
  sourceIp?: string;
  requestId?: string;
}
