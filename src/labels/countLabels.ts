import { COCO_LABEL_NAMES } from '../domain/labelKeys';
import { ownerLabelPrefix } from '../domain/owners';
import type { ObjectStore } from '../ports/ObjectStore';

/**
 * The labels found so far, with how many photos each is filed under: one listing per COCO label
 * (80), at most `cap` + 1 keys each (one S3 request when cap < 1000), 8 at a time. So its cost is
 * bounded whatever the bucket holds — at most 80 requests and 80 x (cap + 1) keys — and a count
 * above the cap is answered as the cap with `capped: true` ("1000+"). A folder store reads each
 * label's folder. Most frequent first, then by name.
 */
export const DEFAULT_COUNT_CAP = 999;
const PARALLEL_LISTS = 8;

export interface LabelCount {
  label: string;
  count: number;
  /** Set when there are more than `count` (the cap). */
  capped?: true;
}

/** `owner`'s labels: listings of their own index only (src/domain/owners.ts). */
export async function countLabels(store: ObjectStore, owner: string, cap: number = DEFAULT_COUNT_CAP): Promise<LabelCount[]> {
  const counts: LabelCount[] = [];
  const queue = [...COCO_LABEL_NAMES];
  const worker = async () => {
    for (let label = queue.shift(); label !== undefined; label = queue.shift()) {
      const keys = await store.list(ownerLabelPrefix(owner, label), { maxKeys: cap + 1 });
      if (keys.length === 0) continue;
      counts.push(keys.length > cap ? { label, count: cap, capped: true } : { label, count: keys.length });
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_LISTS }, worker));
  return counts.sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1));
}
