import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { App } from '../app/createApp';

/**
 * The middlewares every function of this app runs (functions/<stage>/handler.ts):
 * - `injectLambdaContext`: the function's name, version, cold start and Lambda request id on every
 *   log line of the invocation (children made during it included). `logEvent: false` whatever
 *   POWERTOOLS_LOGGER_LOG_EVENT says: an upload event carries the whole photo.
 * - `logMetrics`: prints the EMF metrics the invocation stored, once at its end (errors included),
 *   and a ColdStart metric; only when the app's metrics are EMF (config METRICS).
 */
export function lambdaMiddlewares(app: App): MiddlewareObj[] {
  const list: MiddlewareObj[] = [injectLambdaContext(app.log, { logEvent: false, resetKeys: true }) as MiddlewareObj];
  if (app.metrics.emf) {
    list.push(logMetrics(app.metrics.emf, { captureColdStartMetric: true }) as MiddlewareObj);
  }
  return list;
}

/**
 * For the HTTP functions, first: header names in lower case (API Gateway REST and serverless-offline
 * keep the client's case; the core reads `content-type` and `x-api-key`).
 */
export function httpMiddlewares(app: App): MiddlewareObj[] {
  return [httpHeaderNormalizer() as MiddlewareObj, ...lambdaMiddlewares(app)];
}
