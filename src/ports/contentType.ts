import { IMAGE_FORMATS } from '../domain/imageFormats';

/** Content types the pipeline stores, by file extension; anything else is application/octet-stream. */
const BY_EXTENSION: Record<string, string> = {
  ...Object.fromEntries(IMAGE_FORMATS.flatMap((f) => f.fileExtensions.map((ext) => [ext, f.contentType]))),
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function contentTypeForKey(key: string): string {
  const dot = key.lastIndexOf('.');
  const slash = key.lastIndexOf('/');
  if (dot <= slash + 1) return DEFAULT_CONTENT_TYPE;
  return BY_EXTENSION[key.slice(dot + 1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}
