import { isImageId } from '../domain/imageId';
import { invertId } from '../domain/labelKeys';
import { ownerLabelPrefix } from '../domain/owners';
import type { ObjectStore } from '../ports/ObjectStore';

/**
 * The photos filed under every one of `labels` (AND), newest first, one page at a time: a merge of
 * the labels' index listings (src/domain/labelKeys.ts), which all sort the same way (inverted ids).
 * Each round lists one page of every label after the current position; an id is a match when it is
 * in every page, which is certain up to the "horizon", the smallest last id among the pages that
 * have more behind them; the next round starts there. The cost is O(entries of the labels asked
 * for) of this owner, in list requests of up to 1000 keys, never O(photos); and a request stops after
 * MAX_ROUNDS rounds, answering the matches found so far with a cursor to go on from, so a
 * pathological AND (two common labels that never meet) is still bounded per request.
 */
export const MAX_ROUNDS = 10;
/** Keys per label per round when several labels are asked for (+1 to learn whether more follow: one S3 request). */
export const SCAN_PAGE = 999;

export interface LabelMatches {
  /** Image ids, newest first. */
  ids: string[];
  /** The last id answered, to go on after; absent when nothing follows. */
  after?: string;
}

export interface FindOptions {
  limit: number;
  /** Only photos older than this id (the `after` of the previous page). */
  after?: string;
  /** Tests make these small to exercise the rounds. */
  scanPage?: number;
  maxRounds?: number;
}

/** `owner`'s photos filed under every one of `labels`: their own index only (src/domain/owners.ts). */
export async function findByLabels(
  store: ObjectStore,
  owner: string,
  labels: readonly string[],
  options: FindOptions,
): Promise<LabelMatches> {
  if (labels.length === 0) throw new Error('findByLabels: expected at least one label');
  const prefixes = labels.map((label) => ownerLabelPrefix(owner, label));
  const limit = options.limit;
  const scanPage = options.scanPage ?? SCAN_PAGE;
  const maxRounds = options.maxRounds ?? MAX_ROUNDS;
  /** Positions and matches are inverted ids, the index's own order. */
  let position = options.after === undefined ? undefined : invertId(options.after);
  const hits: string[] = [];
  for (let round = 0; round < maxRounds; round += 1) {
    // One label: exactly the page asked for and one more (is there a next page?). Several: big pages.
    const size = prefixes.length === 1 ? limit + 1 - hits.length : scanPage;
    const pages = await Promise.all(
      prefixes.map(async (prefix) => {
        const keys = await store.list(prefix, { maxKeys: size + 1, ...(position !== undefined ? { startAfter: prefix + position } : {}) });
        return { ids: keys.slice(0, size).map((key) => key.slice(prefix.length)), more: keys.length > size };
      }),
    );
    let horizon: string | undefined;
    for (const page of pages) {
      const last = page.ids.at(-1);
      if (page.more && last !== undefined && (horizon === undefined || last < horizon)) horizon = last;
    }
    const others = pages.slice(1).map((page) => new Set(page.ids));
    for (const id of pages[0]!.ids) {
      if (horizon !== undefined && id > horizon) break;
      if (!others.every((set) => set.has(id)) || !isImageId(invertId(id))) continue; // only ids we wrote
      hits.push(id);
      // One more than the page: then the page is full and something follows it.
      if (hits.length > limit) return { ids: hits.slice(0, limit).map(invertId), after: invertId(hits[limit - 1]!) };
    }
    if (horizon === undefined) return { ids: hits.map(invertId) };
    position = horizon;
  }
  // The scan budget of this request is spent: what was found, and where to go on from (everything
  // up to the last horizon was looked at).
  return { ids: hits.map(invertId), after: invertId(position!) };
}
