import type { ApiRequest } from '../http/ApiRequest';
import { type ApiResponse, errorResponse } from '../http/ApiResponse';
import { matchRoute, routeNames } from '../http/routes';
import { type CreateUploadDeps, handleCreateUpload } from './createUpload';
import { type DeleteImageDeps, handleDeleteImage } from './handleDeleteImage';
import { handleUpload, type UploadDeps } from './handleUpload';

export type UploadRouteDeps = UploadDeps & CreateUploadDeps & DeleteImageDeps;

/**
 * The write side of the API, free of Lambda and of any server: POST /upload (the photo in the
 * body), POST /uploads (a form to the bucket) and DELETE /images/{id} (the owner takes a photo
 * back). src/lambda/uploadHandler.ts adapts this to API Gateway events; the embedded server calls
 * it with the request as it streams in.
 */
export async function routeUpload(req: ApiRequest, deps: UploadRouteDeps): Promise<ApiResponse> {
  const match = matchRoute(req.path, 'upload');
  const route = match?.route.path;
  if (route === '/uploads') return handleCreateUpload(req, deps);
  if (route === '/upload') return handleUpload(req, deps);
  if (route === '/images/{id}' && req.method === 'DELETE') return handleDeleteImage(req, match?.params.id ?? '', deps);
  return errorResponse(
    404,
    'not_found',
    `no route for ${req.method} ${req.path}; expected one of ${routeNames('upload').join(', ')}`,
    req.requestId,
  );
}
