import type { Authenticator } from '../auth/authenticator';
import type { ApiRequest } from '../http/ApiRequest';
import { type ApiResponse, errorResponse, httpErrorResponse, jsonResponse } from '../http/ApiResponse';
import { HttpError } from '../http/HttpError';
import { type AcceptDeps, acceptUpload } from './acceptUpload';
import { readUploadBody, uploadLimitHint } from './readUploadBody';

/**
 * POST /upload, free of Lambda: 202 with the image id and where to follow it; 4xx with a JSON reason
 * when the client must change something; 503 when nothing was queued and a retry is safe (see
 * acceptUpload for what each failure means). `deps.log` is the request's logger.
 */
export async function handleUpload(req: ApiRequest, deps: AcceptDeps & { auth: Authenticator }): Promise<ApiResponse> {
  const { log } = deps;
  try {
    const { owner } = await deps.auth.authenticate(req.headers);
    const file = await readUploadBody(req, deps.config.limits.maxUploadBytes, uploadLimitHint(deps.config.limits));
    const accepted = await acceptUpload(file.bytes, deps, { owner, requestId: req.requestId });
    return jsonResponse(
      202,
      {
        image_id: accepted.image_id,
        status_url: `/images/${accepted.image_id}`,
        original_path: accepted.original_path,
        width: accepted.width,
        height: accepted.height,
        format: accepted.format,
        request_id: req.requestId,
      },
      { location: `/images/${accepted.image_id}` },
    );
  } catch (error) {
    if (error instanceof HttpError) {
      log.warn('upload refused', { status: error.statusCode, code: error.code, reason: error.message });
      return httpErrorResponse(error, req.requestId);
    }
    log.error('upload failed', { error });
    deps.metrics?.recordStage('upload', 'failed');
    return errorResponse(503, 'unavailable', 'the upload could not be stored; nothing was accepted, try again', req.requestId);
  }
}
