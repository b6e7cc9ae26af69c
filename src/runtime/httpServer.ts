import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpConfig } from '../config';
import type { ApiRequest } from '../http/ApiRequest';
import { type ApiResponse, errorResponse } from '../http/ApiResponse';
import { ClientGoneError, isClientGone } from '../http/clientGone';
import { deadline } from '../http/deadline';
import { HttpError, tooLarge } from '../http/HttpError';
import { boundedBody, declaredLength } from '../http/readBody';
import type { Logger } from '../logger/createLogger';
import { closeAfterAnswer } from './closeAfterAnswer';

/**
 * The embedded front door: Node's HTTP server calling the API core with each request as it streams
 * in (read once, never buffered here); the folder store's own routes (POST /bucket, and GET
 * /bucket/<key>, which streams an image from its file) are raw routes. What API Gateway and Lambda
 * do on AWS, it does itself:
 * - every malformed request gets the usual JSON error at once: bad HTTP (400, 431 for headers past
 *   16 KB), a body past the limit (413, refused on its declared length before a byte is read);
 * - every request has deadlines: its headers within `headersTimeoutSeconds`, all of it within
 *   `requestTimeoutSeconds` (408), and no connection stays silent past `idleTimeoutSeconds`; every
 *   read of a body ends when they pass (the request's signal), so nothing waits for ever;
 * - at most `maxConnections` at once (Node refuses more by closing them);
 * - a client that goes away aborts its request's signal, which frees what the request held (its
 *   parser, its spooled bytes), and is logged at `info`, not as an error of the server.
 */
export type HttpFunction = (req: ApiRequest) => Promise<ApiResponse>;

export interface Route {
  method: string;
  /** Matches the path; named groups become path parameters. */
  pattern: RegExp;
  serve: HttpFunction;
  name: string;
}

/**
 * A route served from the raw request, streaming, with its own limits and answers (the embedded
 * bucket's `POST /bucket`, which speaks S3's XML): not held to maxBodyBytes. `signal` is the
 * request's deadline and its client's presence, as for any route.
 */
export interface RawRoute {
  method: string;
  path: string;
  /** Also every path under `path/` (the folder store's `GET /bucket/<key>`). */
  prefix?: boolean;
  serve(req: http.IncomingMessage, res: http.ServerResponse, context: { signal: AbortSignal; requestId: string }): Promise<void>;
}

export type HttpTimeouts = Pick<HttpConfig, 'headersTimeoutSeconds' | 'requestTimeoutSeconds' | 'idleTimeoutSeconds' | 'maxConnections'>;

export interface HttpServerOptions {
  routes: Route[];
  rawRoutes?: RawRoute[];
  port: number;
  host?: string;
  /** Largest body accepted, in bytes. Multipart framing gets a little headroom above the file limit. */
  maxBodyBytes: number;
  /** Follows "got …" in the 413 of a body over maxBodyBytes (where larger photos go). */
  tooLargeHint?: string;
  limits: HttpTimeouts;
  log: Logger;
}

export interface HttpServer {
  /** `http://<bound address>:<port>` (a wildcard host reads as loopback: the address this machine reaches it at). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The request a socket is serving now: what a timeout or a parse error on that socket must end. */
interface InFlight {
  controller: AbortController;
  res: http.ServerResponse;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The usual JSON error, written by send (and so closing the connection gently when asked to). */
function reply(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
  close?: boolean,
): void {
  send(req, res, errorResponse(status, code, message, requestId), close);
}

/** What a malformed request that never reached a handler is told (Node's parser found it bad). */
function clientErrorAnswer(error: Error & { code?: string }): { status: number; code: string; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'headers_too_large', message: 'expected request headers of at most 16 KB, got more' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'expected the request headers and body in time, got less by then' };
    default:
      return {
        status: 400,
        code: 'bad_request',
        message: `expected a well-formed HTTP/1.1 request, got one Node's parser refused (${error.code ?? 'unknown'}: ${error.message})`,
      };
  }
}

/** An answer written straight to a socket that has no response object (a request Node's parser refused). */
function rawAnswer(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message } });
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\ncontent-type: ${JSON_TYPE}\r\ncache-control: no-store\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/** At most one line a minute about refused connections, however many there are. */
function throttled(log: Logger, everyMs: number): (message: string, fields: Record<string, unknown>) => void {
  let last = 0;
  let skipped = 0;
  return (message, fields) => {
    const now = Date.now();
    if (now - last < everyMs) {
      skipped++;
      return;
    }
    log.warn(message, { ...fields, ...(skipped ? { not_logged_since_last: skipped } : {}) });
    last = now;
    skipped = 0;
  };
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { limits, log } = options;
  const inFlight = new WeakMap<Socket, InFlight>();
  const requestMs = limits.requestTimeoutSeconds * 1000;
  const server = http.createServer(
    {
      headersTimeout: Math.min(limits.headersTimeoutSeconds, limits.requestTimeoutSeconds) * 1000,
      // Node's own request timeout is the backstop, a little after the request's own deadline
      // (which answers with the usual JSON 408 from inside the handler).
      requestTimeout: requestMs + 5_000,
      // How often Node checks those two: often enough that a short timeout is kept to within a second.
      connectionsCheckingInterval: Math.min(1_000, (limits.headersTimeoutSeconds * 1000) / 2),
    },
    (req, res) => {
      // A request cut short is seen through its response's close (below); its error event is not news.
      req.on('error', () => undefined);
      const requestId = randomUUID();
      const limit = deadline(limits.requestTimeoutSeconds);
      inFlight.set(req.socket, { controller: limit.controller, res });
      log.debug('request received', { method: req.method, path: pathOf(req), request_id: requestId });
      res.once('close', () => {
        limit.clear();
        if (inFlight.get(req.socket)?.res === res) inFlight.delete(req.socket);
        if (!res.writableFinished) {
          limit.controller.abort(new ClientGoneError());
          log.info('client went away', { method: req.method, path: pathOf(req), request_id: requestId });
        }
      });
      handle(req, res, limit.signal, requestId, options).catch((error: unknown) => {
        if (isClientGone(error)) return; // logged once, when the response closed
        log.error('http request failed', { error, request_id: requestId });
        reply(req, res, 500, 'internal', 'internal error', requestId, true);
        if (res.headersSent && !res.writableEnded) res.destroy();
      });
    },
  );
  server.maxConnections = limits.maxConnections;
  // A connection silent this long: its request (if any) is answered 408, else it is closed.
  server.timeout = limits.idleTimeoutSeconds * 1000;
  server.on('timeout', (socket: Socket) => {
    const current = inFlight.get(socket);
    if (current && !current.res.headersSent) {
      current.controller.abort(
        new HttpError(408, 'request_timeout', `expected more of the request within ${limits.idleTimeoutSeconds} s, got nothing`),
      );
      // Whatever answers, the connection goes: the client stopped talking.
      current.res.once('finish', () => socket.destroy());
    } else socket.destroy();
  });
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    const current = inFlight.get(socket);
    if (isClientGone(error) || !socket.writable) {
      // A request in flight is logged once, when its response closes unsent.
      if (!current) log.info('client went away', { reason: error.message, ...(error.code ? { code: error.code } : {}) });
      socket.destroy();
      return;
    }
    const answer = clientErrorAnswer(error);
    log.warn('malformed HTTP request refused', { status: answer.status, code: answer.code, reason: answer.message });
    if (current) {
      // The handler is reading this request: it answers (its read ends with this error), then the
      // connection closes.
      if (current.res.headersSent) socket.destroy();
      else {
        current.controller.abort(new HttpError(answer.status, answer.code, answer.message));
        current.res.once('finish', () => socket.destroy());
      }
      return;
    }
    socket.end(rawAnswer(answer.status, answer.code, answer.message));
  });
  const refused = throttled(log, 60_000);
  server.on('drop', (data?: { remoteAddress?: string }) =>
    refused('connection refused: the server holds HTTP_MAX_CONNECTIONS connections already', {
      max_connections: limits.maxConnections,
      ...(data?.remoteAddress ? { remote_address: data.remoteAddress } : {}),
    }),
  );

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Whether `host` binds every address of the machine (then no URL names it: see urlHost). */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** The host of a URL that reaches a server bound to `host`: loopback for a wildcard, IPv6 in brackets. */
export function urlHost(host: string): string {
  if (isWildcardHost(host)) return host === '::' ? '[::1]' : '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function pathOf(req: http.IncomingMessage): string {
  const url = req.url ?? '/';
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  signal: AbortSignal,
  requestId: string,
  options: HttpServerOptions,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return reply(
      req,
      res,
      400,
      'bad_request',
      `expected a request path, got ${JSON.stringify(String(req.url).slice(0, 80))}`,
      requestId,
      true,
    );
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const raw =
    options.rawRoutes?.filter(
      (r) => url.pathname === r.path || url.pathname === `${r.path}/` || (r.prefix === true && url.pathname.startsWith(`${r.path}/`)),
    ) ?? [];
  // HEAD is GET without the body, on every route (a raw route's serve sends none for it).
  const answers = (r: { method: string }) => r.method === method || (method === 'HEAD' && r.method === 'GET');
  const rawRoute = raw.find(answers);
  if (rawRoute) return rawRoute.serve(req, res, { signal, requestId });
  // A path a raw route serves is that route's alone: another method there is 405, not an API route.
  const candidates = raw.length ? [] : options.routes.filter((r) => r.pattern.test(url.pathname));
  const route = candidates.find(answers);
  if (!route) {
    const allowed = [...raw, ...candidates].map((r) => r.method);
    if (allowed.length) {
      return reply(req, res, 405, 'method_not_allowed', `expected ${allowed.join(' or ')} on ${url.pathname}, got ${method}`, requestId);
    }
    return reply(req, res, 404, 'not_found', `no route for ${method} ${url.pathname}`, requestId);
  }

  const declared = declaredLength(req);
  if (declared !== undefined && declared > options.maxBodyBytes) {
    // Refused before reading: the connection is closed after the answer rather than drained.
    const refusal = tooLarge(options.maxBodyBytes, declared, options.tooLargeHint);
    return reply(req, res, refusal.statusCode, refusal.code, refusal.message, requestId, true);
  }

  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const request: ApiRequest = {
    method,
    path: url.pathname,
    headers,
    // A repeated parameter is joined with commas, as API Gateway's payload 2.0 does (?label=dog&label=cat).
    query: joinRepeated(url.searchParams),
    pathParameters: route.pattern.exec(url.pathname)?.groups ?? {},
    body: boundedBody(req, {
      maxBytes: options.maxBodyBytes,
      signal,
      tooLarge: () => tooLarge(options.maxBodyBytes, undefined, options.tooLargeHint),
    }),
    ...(declared !== undefined ? { bodyLength: declared } : {}),
    signal,
    ...(req.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress } : {}),
    requestId,
  };
  const answer = await route.serve(request);
  send(req, res, answer);
}

/**
 * Writes an answer. One sent before the request's body was read (a refusal) closes the connection,
 * gently (closeAfterAnswer): the rest of that body is not worth reading.
 */
function send(req: http.IncomingMessage, res: http.ServerResponse, answer: ApiResponse, close = !req.complete): void {
  if (res.destroyed || res.headersSent) return;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(answer.headers)) headers[k] = String(v);
  if (close) headers.connection = 'close';
  if (close && !req.complete) closeAfterAnswer(req, res);
  res.writeHead(answer.statusCode, headers);
  res.end(answer.isBase64Encoded ? Buffer.from(answer.body, 'base64') : answer.body);
}

/** Query parameters as API Gateway (payload 2.0) gives them: each name once, repeated values joined with ",". */
function joinRepeated(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of new Set(params.keys())) out[name] = params.getAll(name).join(',');
  return out;
}
