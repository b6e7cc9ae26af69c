import { z } from 'zod';
import type { Authenticator } from '../auth/authenticator';
import type { Config } from '../config';
import { contentTypesOf, IMAGE_FORMATS, type ImageFormat, imageFormatOfContentType, imageFormatOfFileName } from '../domain/imageFormats';
import { newImageId } from '../domain/imageId';
import { uploadKey } from '../domain/keys';
import type { ApiRequest } from '../http/ApiRequest';
import { type ApiResponse, jsonResponse } from '../http/ApiResponse';
import { describeValue } from '../http/describeValue';
import { HttpError } from '../http/HttpError';
import { readJsonBody } from '../http/jsonBody';
import { refusedRequest } from '../http/refusedRequest';
import type { Logger } from '../logger/createLogger';
import type { ObjectStore, PresignedPost } from '../ports/ObjectStore';

/**
 * POST /uploads, the first step of a direct-to-bucket upload, free of Lambda: the client says what
 * it will send (`{content_type, size, file_name?}`), and gets the new image id, a form the store
 * itself checks (a POST policy bound to the key `uploads/<owner>/<id>.<ext>`, the content type, and exactly
 * the declared size, at most MAX_BUCKET_UPLOAD_BYTES, valid UPLOAD_EXPIRES_SECONDS) and where to follow the photo. The
 * key is the server's; nothing is stored here. The ingest step starts the pipeline once the object
 * is in the bucket (S3's ObjectCreated notification; the embedded server's POST /bucket).
 */
export interface CreateUploadDeps {
  store: ObjectStore;
  config: Pick<Config, 'limits' | 'uploadExpiresSeconds'>;
  log: Logger;
  auth: Authenticator;
  /**
   * Where a form whose URL is a path (the folder store's `/bucket`) is sent: the embedded server's
   * public base URL (PUBLIC_URL, else its own bound address). Never the request's Host header: a
   * client must not choose where another's upload goes. Without it the path is left as it is.
   */
  publicUrl?: string;
}

export interface CreatedUpload {
  image_id: string;
  upload: PresignedPost;
  status_url: string;
}

const EXAMPLE = '{"content_type": "image/jpeg", "size": 5242880, "file_name": "photo.jpg"}';
const TYPES = IMAGE_FORMATS.flatMap(contentTypesOf);
/** What browsers send for a file they have no type for (a .heic on most systems): the file name says the format. */
const UNTYPED = 'application/octet-stream';

/** The request is a few fields: a body past this is not one (413 at once, never buffered further). */
export const MAX_CREATE_UPLOAD_BYTES = 16 * 1024;

const CreateUploadSchema = z.strictObject({
  content_type: z.string({ error: 'expected a string such as "image/jpeg"' }).max(200, 'expected at most 200 characters'),
  size: z.number({ error: 'expected a whole number of bytes' }).int('expected a whole number of bytes').min(1, 'expected at least 1 byte'),
  file_name: z.string({ error: 'expected a string' }).max(255, 'expected at most 255 characters').optional(),
});

const shown = (value: unknown) => describeValue(value);

/** The request's fields from its JSON, or an HttpError that says what was expected and what arrived. */
export function parseCreateUpload(
  json: unknown,
  limits: Pick<Config['limits'], 'maxBucketUploadBytes'>,
): z.infer<typeof CreateUploadSchema> & { format: ImageFormat } {
  const result = CreateUploadSchema.safeParse(json);
  if (!result.success) {
    const record = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : undefined;
    const issues = result.error.issues
      .map((i) => {
        const field = i.path.join('.');
        if (field === '') return i.code === 'unrecognized_keys' ? i.message : `expected a JSON object, got ${shown(json)}`;
        return `${field}: ${i.message}, got ${record && field in record ? shown(record[field]) : 'nothing'}`;
      })
      .join('; ');
    throw new HttpError(400, 'invalid_request', `expected ${EXAMPLE} (file_name optional); ${issues}`, { cause: result.error });
  }
  const request = result.data;
  const contentType = request.content_type.trim().toLowerCase();
  const format =
    imageFormatOfContentType(contentType) ??
    (contentType === UNTYPED && request.file_name !== undefined ? imageFormatOfFileName(request.file_name) : undefined);
  if (!format) {
    const untyped =
      contentType === UNTYPED ? ` with file_name ${request.file_name === undefined ? 'missing' : shown(request.file_name)}` : '';
    throw new HttpError(
      415,
      'unsupported_content_type',
      `expected content_type to be one of ${TYPES.join(', ')}, or ${UNTYPED} with a file_name whose extension names one (such as "IMG_0001.HEIC"), got ${shown(request.content_type)}${untyped}`,
    );
  }
  if (request.size > limits.maxBucketUploadBytes) {
    throw new HttpError(413, 'too_large', `expected size to be at most ${limits.maxBucketUploadBytes} bytes, got ${request.size}`);
  }
  // The form binds the format's own content type: the object is stored with it, whatever the client called it.
  return { ...request, content_type: format.contentType, format };
}

export async function handleCreateUpload(req: ApiRequest, deps: CreateUploadDeps): Promise<ApiResponse> {
  const { log } = deps;
  try {
    const { owner } = await deps.auth.authenticate(req.headers);
    const json = await readJsonBody(req.body, { maxBytes: MAX_CREATE_UPLOAD_BYTES, signal: req.signal, example: EXAMPLE });
    const request = parseCreateUpload(json, deps.config.limits);
    const { format } = request;
    const imageId = newImageId();
    // The key names the owner and the form binds the key: ingest learns whose photo it is from it.
    const form = await deps.store.presignPost(uploadKey(imageId, format.ext, owner), {
      contentType: format.contentType,
      size: request.size,
      expiresInSeconds: deps.config.uploadExpiresSeconds,
    });
    // The folder store's form goes to the embedded server's own endpoint: a path, made absolute
    // under the configured public URL, its path kept (a server behind a proxy at /pipeline/ has its
    // bucket at /pipeline/bucket). An S3 URL is absolute already and stays as it is.
    const url = deps.publicUrl !== undefined && form.url.startsWith('/') ? `${deps.publicUrl.replace(/\/+$/, '')}${form.url}` : form.url;
    const created: CreatedUpload = { image_id: imageId, upload: { ...form, url }, status_url: `/images/${imageId}` };
    // Never the fields: they are the bearer secret of the upload.
    log.info('upload form signed', {
      image_id: imageId,
      content_type: format.contentType,
      declared_bytes: request.size,
      ...(request.file_name !== undefined ? { file_name: request.file_name } : {}),
      expires_at: form.expires_at,
    });
    return jsonResponse(201, { ...created, request_id: req.requestId }, { location: created.status_url });
  } catch (error) {
    return refusedRequest(error, req, { log, what: 'upload form', unavailable: 'the upload form could not be signed; try again' });
  }
}
