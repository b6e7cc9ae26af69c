/**
 * Every HTTP route, once: which function answers it (`upload`: functions/upload, `api`:
 * functions/api), and whether it needs to know its caller (AUTH; src/auth/). serverless.yml
 * declares the same httpApi events, the JWT authorizer on exactly the routes that need a caller (a
 * unit test compares them); the embedded server and the API's own router are built from this list.
 * The gallery page (no photo in it; it signs in) and the metrics (counts only) need no caller.
 */
export const ROUTES = [
  { method: 'POST', path: '/upload', fn: 'upload', needsCaller: true },
  { method: 'POST', path: '/uploads', fn: 'upload', needsCaller: true },
  // The write side takes a photo back too: the read-only api function may not delete.
  { method: 'DELETE', path: '/images/{id}', fn: 'upload', needsCaller: true },
  { method: 'GET', path: '/', fn: 'api', needsCaller: false },
  { method: 'GET', path: '/images', fn: 'api', needsCaller: true },
  { method: 'GET', path: '/labels', fn: 'api', needsCaller: true },
  { method: 'GET', path: '/images/{id}', fn: 'api', needsCaller: true },
  { method: 'GET', path: '/images/{id}/{kind}', fn: 'api', needsCaller: true },
  { method: 'GET', path: '/metrics', fn: 'api', needsCaller: false },
] as const;

export type Route = (typeof ROUTES)[number];
export type RoutePath = Route['path'];
export type RouteFunction = Route['fn'];

/** `GET /images/{id}` and so on, for messages that list what is served. */
export function routeNames(fn?: RouteFunction): string[] {
  return ROUTES.filter((r) => fn === undefined || r.fn === fn).map((r) => `${r.method} ${r.path}`);
}

/**
 * The path template as a pattern: `{name}` is one path segment, a trailing slash is allowed, and
 * `/` also answers as `/index.html` (what a browser asks for a folder).
 */
export function routePattern(path: RoutePath): RegExp {
  if (path === '/') return /^\/(index\.html)?$/;
  const body = path.replace(/\{([a-z]+)\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${body}/?$`);
}

export interface RouteMatch {
  route: Route;
  /** Decoded path parameters. */
  params: Record<string, string>;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The route whose template the path fits (any method), with its parameters. */
export function matchRoute(path: string, fn?: RouteFunction): RouteMatch | undefined {
  for (const route of ROUTES) {
    if (fn !== undefined && route.fn !== fn) continue;
    const m = routePattern(route.path).exec(path);
    if (m) return { route, params: Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decode(v)])) };
  }
  return undefined;
}
