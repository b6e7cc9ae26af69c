import type { Authenticator } from '../auth/authenticator';
import type { ApiRequest } from '../http/ApiRequest';
import { type ApiResponse, jsonResponse } from '../http/ApiResponse';
import { refusedRequest } from '../http/refusedRequest';
import { type AcceptDeps, acceptUpload } from './acceptUpload';
import { readUploadBody, uploadLimitHint } from './readUploadBody';
import { memorySpool, type UploadSpool } from './spool';

export interface UploadDeps extends AcceptDeps {
  auth: Authenticator;
  /** Where the photo waits while it arrives (default: memory, as a Lambda event already holds it). */
  spool?: UploadSpool;
}

/**
 * POST /upload, free of Lambda: 202 with the image id and where to follow it; 4xx with a JSON reason
 * when the client must change something; 503 when nothing was queued and a retry is safe (see
 * acceptUpload for what each failure means). `deps.log` is the request's logger.
 */
export async function handleUpload(req: ApiRequest, deps: UploadDeps): Promise<ApiResponse> {
  const { log } = deps;
  try {
    const { owner } = await deps.auth.authenticate(req.headers);
    const upload = await readUploadBody(req, {
      maxBytes: deps.config.limits.maxUploadBytes,
      hint: uploadLimitHint(deps.config.limits),
      spool: deps.spool ?? memorySpool,
    });
    let accepted: Awaited<ReturnType<typeof acceptUpload>>;
    try {
      accepted = await upload.file.use((bytes) => acceptUpload(bytes, deps, { owner, requestId: req.requestId }));
    } finally {
      await upload.file.discard();
    }
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
    return refusedRequest(error, req, {
      log,
      what: 'upload',
      unavailable: 'the upload could not be stored; nothing was accepted, try again',
      onFault: () => deps.metrics?.recordStage('upload', 'failed'),
    });
  }
}
