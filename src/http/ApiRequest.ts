/** An HTTP request as the API core sees it, whatever carried it (API Gateway v1 or v2, the embedded server). */
export interface ApiRequest {
  method: string;
  path: string;
  /** Lower-cased names (the Lambda adapter's header normalizer, Node's HTTP server). */
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  pathParameters: Record<string, string | undefined>;
  body: Buffer;
  requestId?: string;
}
