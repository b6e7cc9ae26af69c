import type { Authenticator } from '../auth/authenticator';
import type { Caller } from '../auth/caller';
import { isLoopback } from '../auth/noneModeRule';
import type { Config } from '../config';
import { isImageId } from '../domain/imageId';
import type { ApiRequest } from '../http/ApiRequest';
import { type ApiResponse, errorResponse, httpErrorResponse, jsonResponse } from '../http/ApiResponse';
import { describeValue } from '../http/describeValue';
import { HttpError, invalidImageId } from '../http/HttpError';
import { matchRoute, routeNames } from '../http/routes';
import { countLabels, DEFAULT_COUNT_CAP } from '../labels/countLabels';
import type { Logger } from '../logger/createLogger';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/PrometheusStageMetrics';
import type { StageMetrics } from '../metrics/StageMetrics';
import type { ObjectStore } from '../ports/ObjectStore';
import { imageResponse } from './imageResponse';
import { IMAGE_KINDS, isImageKind, readOwnedRecords } from './imageStatus';
import { statusWithUrls } from './imageUrls';
import { DEFAULT_RECENT_LIMIT, listRecent, MAX_RECENT_LIMIT } from './listRecent';
import { searchImages } from './searchImages';

/**
 * The read side of the HTTP API, free of Lambda and of any server:
 *   GET /                       the gallery page (upload, live progress, recent photos; it signs in)
 *   GET /images?limit=N         the caller's recent photos, newest first, with their status
 *   GET /images?label=dog       the caller's photos with a dog (src/api/searchImages.ts)
 *   GET /labels                 the labels of the caller's photos, with counts (src/labels/countLabels.ts)
 *   GET /images/{id}            one of the caller's photos, stage by stage
 *   GET /images/{id}/{kind}     original | resized | grayscale | tagged: 302 to a presigned URL
 *   GET /metrics                per-stage counts and latency, Prometheus text (embedded runtime), to loopback clients only
 * Every route but the page and the metrics knows its caller (AUTH, src/auth/) and sees only their
 * photos (src/domain/owners.ts): another owner's photo is answered exactly as an unknown id.
 * The routes are src/http/routes.ts's `api` ones; src/lambda/apiHandler.ts adapts this to API
 * Gateway events, and the embedded server calls that adapter.
 */
export interface ApiDeps {
  store: ObjectStore;
  config: Pick<Config, 'presignExpiresSeconds'>;
  log: Logger;
  metrics?: StageMetrics;
  /** Who is calling: every route but the page and the metrics needs to know (src/http/routes.ts). */
  auth: Authenticator;
  /** GET /: the gallery (src/web/), signed in as the app's AUTH says; the root supplies it. */
  page(): Promise<ApiResponse>;
}

export const API_ROUTES = routeNames('api');

const shown = (value: string) => describeValue(value);

function badId(id: string, requestId?: string): ApiResponse {
  return httpErrorResponse(invalidImageId(id), requestId);
}

export function parseLimit(raw: string | undefined): number | string {
  if (raw === undefined || raw === '') return DEFAULT_RECENT_LIMIT;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n < 1 || n > MAX_RECENT_LIMIT) {
    return `expected limit to be a whole number from 1 to ${MAX_RECENT_LIMIT}, got ${shown(raw)}`;
  }
  return n;
}

const IMAGE_CACHE = 'private, max-age=300';

async function route(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const notFound = () =>
    errorResponse(404, 'not_found', `no route for ${req.method} ${req.path}; expected one of ${API_ROUTES.join(', ')}`, req.requestId);
  const match = matchRoute(req.path === '' ? '/' : req.path, 'api');
  if (!match) return notFound();
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return errorResponse(405, 'method_not_allowed', `expected GET on ${req.path}, got ${req.method}`, req.requestId);
  }

  let caller: Caller | undefined;
  if (match.route.needsCaller) {
    try {
      caller = await deps.auth.authenticate(req.headers);
    } catch (error) {
      if (error instanceof HttpError) return httpErrorResponse(error, req.requestId);
      throw error;
    }
  }
  /** The caller's owner: only read on the routes that need a caller, which have one by now. */
  const owner = () => caller!.owner;
  const presignExpiresSeconds = deps.config.presignExpiresSeconds;

  const { id = '', kind = '' } = match.params;
  switch (match.route.path) {
    case '/':
      return deps.page();

    case '/metrics': {
      if (deps.metrics?.render) {
        // The figures say how busy the server is and how its photos fare: for the machine's own
        // scrapers, not for whoever can reach the API (this route asks for no caller).
        if (req.sourceIp === undefined || !isLoopback(req.sourceIp)) {
          return errorResponse(
            403,
            'forbidden',
            'GET /metrics is served to clients on this machine (loopback) only; scrape it from there',
            req.requestId,
          );
        }
        return {
          statusCode: 200,
          headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
          body: deps.metrics.render(),
        };
      }
      return errorResponse(
        404,
        'metrics_not_here',
        'this runtime publishes its metrics as CloudWatch embedded metric format (see the ImagePipeline namespace); GET /metrics serves Prometheus text only in the embedded runtime',
        req.requestId,
      );
    }

    case '/images': {
      const limit = parseLimit(req.query.limit);
      if (typeof limit === 'string') return errorResponse(400, 'invalid_limit', limit, req.requestId);
      // ?label=…: the owner's label index
      if (req.query.label !== undefined) return searchImages(req, deps.store, owner(), { limit, presignExpiresSeconds });
      const images = await listRecent(deps.store, owner(), { limit, presignExpiresSeconds });
      return jsonResponse(200, { images, limit });
    }

    case '/labels':
      return jsonResponse(200, { labels: await countLabels(deps.store, owner()), cap: DEFAULT_COUNT_CAP });

    case '/images/{id}': {
      if (!isImageId(id)) return badId(id, req.requestId);
      const records = await readOwnedRecords(deps.store, owner(), id);
      if (!records) return errorResponse(404, 'unknown_image', `no image with id ${id}`, req.requestId);
      return jsonResponse(200, await statusWithUrls(deps.store, id, records, presignExpiresSeconds));
    }

    case '/images/{id}/{kind}': {
      if (!isImageId(id)) return badId(id, req.requestId);
      if (!isImageKind(kind)) {
        return errorResponse(404, 'unknown_kind', `expected one of ${IMAGE_KINDS.join(', ')}, got ${shown(kind)}`, req.requestId);
      }
      const result = await imageResponse(deps.store, owner(), id, kind, { presignExpiresSeconds });
      if (result.type === 'missing')
        return errorResponse(404, result.unknownImage ? 'unknown_image' : 'image_not_ready', result.reason, req.requestId);
      if (result.type === 'redirect') {
        return { statusCode: 302, headers: { location: result.location, 'cache-control': 'no-store' }, body: '' };
      }
      const contentType = /^image\/[a-z0-9.+-]+$/i.test(result.contentType) ? result.contentType : 'application/octet-stream';
      return {
        statusCode: 200,
        headers: {
          'content-type': contentType,
          'cache-control': IMAGE_CACHE,
          'x-content-type-options': 'nosniff',
          'content-length': String(result.body.length),
        },
        // API Gateway and the embedded server turn this back into bytes.
        body: result.body.toString('base64'),
        isBase64Encoded: true,
      };
    }
  }
  // POST /upload is the upload function's (src/upload), not this one's.
  return notFound();
}

/** Routes one request; never throws (a fault is a logged 500 with a JSON reason). */
export async function routeApi(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  try {
    const res = await route(req, deps);
    return req.method === 'HEAD' ? { ...res, body: '', isBase64Encoded: false } : res;
  } catch (error) {
    deps.log.error('api request failed', { error, method: req.method, path: req.path });
    return errorResponse(500, 'internal', 'the request could not be answered; try again', req.requestId);
  }
}
