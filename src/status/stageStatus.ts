import { z } from 'zod';
import { DetectionSchema } from '../contracts';
import type { ObjectStore } from '../ports/ObjectStore';

/**
 * Progress of one image: each stage writes its own small record, `status/<image_id>/<stage>.json`,
 * so no two stages ever read-modify-write one shared document; the status API assembles them.
 */
export const STAGES = ['upload', 'resize', 'grayscale', 'detect', 'tag'] as const;
export type StageName = (typeof STAGES)[number];

export const StageStatusSchema = z.object({
  stage: z.enum(STAGES),
  state: z.enum(['running', 'retrying', 'done', 'failed']),
  started_at: z.string(),
  finished_at: z.string().optional(),
  duration_ms: z.number().optional(),
  output_key: z.string().optional(),
  detections: z.array(DetectionSchema).optional(),
  attempt: z.number().int().optional(),
  error: z.string().optional(),
  request_id: z.string().optional(),
});
export type StageStatus = z.infer<typeof StageStatusSchema>;

export function statusKey(imageId: string, stage: StageName): string {
  return `status/${imageId}/${stage}.json`;
}

export async function writeStageStatus(store: ObjectStore, imageId: string, status: StageStatus): Promise<void> {
  await store.put(statusKey(imageId, status.stage), Buffer.from(JSON.stringify(status)), {
    contentType: 'application/json',
  });
}

/** Every stage's record that exists for the image (absent = pending). */
export async function readStageStatuses(store: ObjectStore, imageId: string): Promise<Partial<Record<StageName, StageStatus>>> {
  const out: Partial<Record<StageName, StageStatus>> = {};
  await Promise.all(
    STAGES.map(async (stage) => {
      if (!(await store.exists(statusKey(imageId, stage)))) return;
      const { body } = await store.get(statusKey(imageId, stage));
      const parsed = StageStatusSchema.safeParse(JSON.parse(body.toString('utf8')));
      if (parsed.success) out[stage] = parsed.data;
    }),
  );
  return out;
}
