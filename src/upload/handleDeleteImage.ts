import type { Authenticator } from '../auth/authenticator';
import { isImageId } from '../domain/imageId';
import type { ApiRequest } from '../http/ApiRequest';
import type { ApiResponse } from '../http/ApiResponse';
import { HttpError, invalidImageId } from '../http/HttpError';
import { refusedRequest } from '../http/refusedRequest';
import { childLogger, type Logger } from '../logger/createLogger';
import { deletePhoto } from '../owners/deletePhoto';
import type { ObjectStore } from '../ports/ObjectStore';

/**
 * DELETE /images/{id}: the owner takes a photo back (src/upload/deletePhoto.ts). 204 once nothing
 * of it is left — its images, records and index entries, on every store — and a stage still at
 * work on it ends without writing it back; 404 for an id the caller has no photo under (an unknown
 * id, or someone else's photo: the same answer); 401 without a caller; 503 when the store failed
 * part way: the photo is invisible already, and DELETE again finishes the job.
 */
export interface DeleteImageDeps {
  store: ObjectStore;
  auth: Authenticator;
  log: Logger;
}

export async function handleDeleteImage(req: ApiRequest, id: string, deps: DeleteImageDeps): Promise<ApiResponse> {
  try {
    const { owner } = await deps.auth.authenticate(req.headers);
    if (!isImageId(id)) throw invalidImageId(id);
    const outcome = await deletePhoto(deps.store, { imageId: id, owner });
    if (outcome === 'unknown') throw new HttpError(404, 'unknown_image', `no image with id ${id}`);
    deps.log.info(outcome === 'deleted' ? 'photo deleted by its owner' : 'photo deletion finished', { image_id: id });
    return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
  } catch (error) {
    return refusedRequest(error, req, {
      log: childLogger(deps.log, { image_id: id }),
      what: 'photo deletion',
      unavailable: 'the photo could not be deleted completely; send DELETE again to finish (what was removed stays removed)',
    });
  }
}
