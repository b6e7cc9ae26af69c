import type { Route } from './httpServer';

/** Routes served beside POST /upload in the embedded default (status API and gallery come here). */
export function apiRoutes(): Route[] {
  return [];
}
