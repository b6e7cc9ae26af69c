import assert from 'node:assert/strict';
import type { PresignedPost } from '../../src/ports/ObjectStore';

export interface CreatedUpload {
  image_id: string;
  upload: PresignedPost;
}

/** POST /uploads as a client sends it (JSON), answered 201 with the photo's id and its signed form. */
export async function createUpload(
  apiUrl: string,
  request: { content_type: string; size: number; file_name?: string } & Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<CreatedUpload> {
  const res = await fetch(`${apiUrl}/uploads`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const created = (await res.json()) as CreatedUpload;
  assert.equal(res.status, 201, JSON.stringify(created));
  return created;
}
