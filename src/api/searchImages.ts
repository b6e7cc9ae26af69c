import { isImageId } from '../domain/imageId';
import { isCocoLabel } from '../domain/labelKeys';
import type { ApiRequest } from '../http/ApiRequest';
import { type ApiResponse, errorResponse, jsonResponse } from '../http/ApiResponse';
import { findByLabels } from '../labels/findByLabels';
import type { ObjectStore } from '../ports/ObjectStore';
import { assembleStatus, type ImageStatus, readOwnedRecords } from './imageStatus';
import { presignedImageUrls } from './imageUrls';

/**
 * GET /images?label=dog[&label=person][&limit=N][&cursor=…]: the photos whose detections include
 * every label asked for (AND: a filter narrows), newest first, with their status, from the label
 * index (src/labels/). API Gateway joins a repeated parameter with commas, so `label=dog,person`
 * is the same question. The answer has `next_cursor` (opaque) while more may follow; a page can be
 * shorter than `limit` (a request reads a bounded share of the index), so follow the cursor until
 * it is null. A photo whose current detections no longer hold a label (processed again since,
 * with another outcome) is left out: the index gains entries, and this check keeps the answer exact.
 */
export const MAX_QUERY_LABELS = 5;

function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** The labels asked for, each a COCO name, without repeats; or the reason they are not. */
export function parseLabels(raw: string): string[] | string {
  const labels = [...new Set(raw.split(',').map((l) => l.trim()))];
  const bad = labels.find((l) => !isCocoLabel(l));
  if (bad !== undefined) {
    return `expected each label to be a COCO name such as "dog", "person" or "traffic light" (GET /labels lists those found so far), got ${shown(bad)}`;
  }
  if (labels.length > MAX_QUERY_LABELS) return `expected at most ${MAX_QUERY_LABELS} labels, got ${labels.length}`;
  return labels;
}

export function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

/** The image id a cursor goes on after, or undefined for a string that is no cursor of ours. */
export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  try {
    const after = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }).after;
    return isImageId(after) ? after : undefined;
  } catch {
    return undefined;
  }
}

export interface LabelSearchAnswer {
  images: ImageStatus[];
  labels: string[];
  limit: number;
  next_cursor: string | null;
}

/**
 * `owner`'s photos with every label, from their own label index; `limit` is parsed by the caller
 * (routeApi), as for GET /images.
 */
export async function searchImages(
  req: ApiRequest,
  store: ObjectStore,
  owner: string,
  options: { limit: number; presignExpiresSeconds: number },
): Promise<ApiResponse> {
  const { limit } = options;
  const labels = parseLabels(req.query.label ?? '');
  if (typeof labels === 'string') return errorResponse(400, 'invalid_label', labels, req.requestId);
  const rawCursor = req.query.cursor;
  const after = rawCursor === undefined || rawCursor === '' ? undefined : decodeCursor(rawCursor);
  if (rawCursor !== undefined && rawCursor !== '' && after === undefined) {
    return errorResponse(
      400,
      'invalid_cursor',
      `expected cursor to be the next_cursor of an earlier answer, got ${shown(rawCursor)}`,
      req.requestId,
    );
  }
  const found = await findByLabels(store, owner, labels, { limit, ...(after !== undefined ? { after } : {}) });
  const images = await Promise.all(
    found.ids.map(async (id) => {
      const records = await readOwnedRecords(store, owner, id);
      if (!records) return undefined; // deleted meanwhile
      const status = assembleStatus(id, records);
      const has = new Set(status.detections.map((d) => d.label));
      if (!labels.every((l) => has.has(l))) return undefined;
      return { ...status, image_urls: await presignedImageUrls(store, id, records, options.presignExpiresSeconds) };
    }),
  );
  const answer: LabelSearchAnswer = {
    images: images.filter((s) => s !== undefined),
    labels,
    limit,
    next_cursor: found.after === undefined ? null : encodeCursor(found.after),
  };
  return jsonResponse(200, answer);
}
