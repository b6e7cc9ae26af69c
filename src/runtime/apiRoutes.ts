import { handler as apiHandler } from '../../functions/api/handler';
import type { Route } from './httpServer';

/** Routes served beside POST /upload in the embedded default: the status API, images, gallery, metrics. */
export function apiRoutes(): Route[] {
  const handler: Route['handler'] = (event, context) => apiHandler(event, context);
  return [
    { method: 'GET', pattern: /^\/(index\.html)?$/, handler, name: '/' },
    { method: 'GET', pattern: /^\/metrics\/?$/, handler, name: '/metrics' },
    { method: 'GET', pattern: /^\/images\/?$/, handler, name: '/images' },
    { method: 'GET', pattern: /^\/images\/(?<id>[^/]+)\/?$/, handler, name: '/images/{id}' },
    { method: 'GET', pattern: /^\/images\/(?<id>[^/]+)\/(?<kind>[^/]+)\/?$/, handler, name: '/images/{id}/{kind}' },
  ];
}
