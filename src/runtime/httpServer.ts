import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Logger } from '../logger/createLogger';
import { localContext } from './sqsEvent';

/**
 * A local HTTP front door that does what API Gateway does: turns requests into HTTP API (v2)
 * events for the real Lambda handlers and their results back into responses. Bodies are counted
 * while they stream in, and a body over the limit is refused at once (413), not buffered first.
 */
export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResult>;

export interface Route {
  method: string;
  /** Matches the path; named groups become path parameters. */
  pattern: RegExp;
  handler: ApiHandler;
  name: string;
}

/**
 * A route served from the raw request, streaming, with its own limits (the embedded bucket's
 * `POST /bucket`): not turned into an API Gateway event, and not held to maxBodyBytes.
 */
export interface RawRoute {
  method: string;
  path: string;
  /** Also every path under `path/` (the folder store's `GET /bucket/<key>`). */
  prefix?: boolean;
  serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
}

export interface HttpServerOptions {
  routes: Route[];
  rawRoutes?: RawRoute[];
  port: number;
  host?: string;
  /** Largest body accepted, in bytes. Multipart framing gets a little headroom above the file limit. */
  maxBodyBytes: number;
  /** Follows "got …" in the 413 of a body over maxBodyBytes (where larger photos go). */
  tooLargeHint?: string;
  log: Logger;
}

const TEXT_TYPES = /^(application\/json|text\/|application\/x-www-form-urlencoded)/i;

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(JSON.stringify(body));
}

export async function startHttpServer(options: HttpServerOptions): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    void handle(req, res, options).catch((error: unknown) => {
      options.log.error('http request failed', { error });
      if (!res.headersSent) reply(res, 500, { error: { code: 'internal', message: 'internal error' } });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, options: HttpServerOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = (req.method ?? 'GET').toUpperCase();
  const raw =
    options.rawRoutes?.filter(
      (r) => url.pathname === r.path || url.pathname === `${r.path}/` || (r.prefix === true && url.pathname.startsWith(`${r.path}/`)),
    ) ?? [];
  const rawRoute = raw.find((r) => r.method === method);
  if (rawRoute) return rawRoute.serve(req, res);
  if (raw.length) {
    req.resume();
    return reply(res, 405, {
      error: { code: 'method_not_allowed', message: `expected ${raw.map((r) => r.method).join(' or ')} on ${url.pathname}, got ${method}` },
    });
  }
  const candidates = options.routes.filter((r) => r.pattern.test(url.pathname));
  const route = candidates.find((r) => r.method === method);
  if (!route) {
    if (candidates.length)
      return reply(res, 405, {
        error: {
          code: 'method_not_allowed',
          message: `expected ${candidates.map((r) => r.method).join(' or ')} on ${url.pathname}, got ${method}`,
        },
      });
    return reply(res, 404, { error: { code: 'not_found', message: `no route for ${method} ${url.pathname}` } });
  }

  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
    req.resume();
    return reply(res, 413, {
      error: {
        code: 'too_large',
        message: `expected an upload of at most ${options.maxBodyBytes} bytes, got ${declared}${options.tooLargeHint ?? ''}`,
      },
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  await new Promise<void>((resolve, reject) => {
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > options.maxBodyBytes) {
        // Stop reading at once: answer 413 and drop the connection instead of buffering the rest.
        refused = true;
        reply(res, 413, {
          error: {
            code: 'too_large',
            message: `expected an upload of at most ${options.maxBodyBytes} bytes, got more${options.tooLargeHint ?? ''}`,
          },
        });
        req.destroy();
        resolve();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve());
    req.on('error', (e) => (refused ? resolve() : reject(e)));
  });
  if (refused) return;

  const body = Buffer.concat(chunks, size);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const isText = TEXT_TYPES.test(headers['content-type'] ?? '');
  const requestId = randomUUID();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: `${method} ${route.name}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    // A repeated parameter is joined with commas, as API Gateway's payload 2.0 does (?label=dog&label=cat).
    queryStringParameters: url.search ? joinRepeated(url.searchParams) : undefined,
    pathParameters: route.pattern.exec(url.pathname)?.groups,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: `${method} ${route.name}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: size ? body.toString(isText ? 'utf8' : 'base64') : undefined,
    isBase64Encoded: size > 0 && !isText,
  };
  const result = await route.handler(event, localContext(route.name));
  const outHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) outHeaders[k] = String(v);
  res.writeHead(result.statusCode, outHeaders);
  res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
}

/** Query parameters as API Gateway (payload 2.0) gives them: each name once, repeated values joined with ",". */
function joinRepeated(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of new Set(params.keys())) out[name] = params.getAll(name).join(',');
  return out;
}
