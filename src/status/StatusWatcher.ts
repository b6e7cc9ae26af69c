import { parseImageKey, parseRecordKey } from '../domain/keys';
import { STAGE_OF_FOLDER } from '../domain/pipeline';
import type { QueueStageName } from '../domain/stages';
import type { ObjectStore, PutOptions } from '../ports/ObjectStore';
import { recordOfOutput } from './outputRecord';
import { stagesOf } from './photoStatus';
import { type ImageOutcome, settledOutcome } from './settledOutcome';
import { type PhotoRecord, parseRecord, type StageRecords } from './stageStatus';

/** What was written of one photo, as the status API would read it (src/status/photoStatus.ts). */
interface Seen {
  record?: PhotoRecord;
  outputs: StageRecords;
  legacy: StageRecords;
}

/**
 * Learns of a photo's records as they are written, for a runtime that holds the store in-process
 * (the embedded default): `wrap(store)` passes every call through and notes the writes that record
 * progress (the photo's record, its stages' images with their metadata, the objects of the layout
 * before those), and `waitFor(id)` resolves when that image is tagged or failed — no polling of
 * hundreds of images.
 */
export class StatusWatcher {
  private readonly seen = new Map<string, Seen>();
  private readonly waiters = new Map<string, (outcome: ImageOutcome) => void>();

  wrap(store: ObjectStore): ObjectStore {
    const wrapped: ObjectStore = Object.create(store) as ObjectStore;
    wrapped.put = async (key, body, options) => {
      await store.put(key, body, options);
      this.noteWrite(key, body, options);
    };
    wrapped.putIfAbsent = async (key, body, options) => {
      const written = await store.putIfAbsent(key, body, options);
      if (written) this.noteWrite(key, body, options);
      return written;
    };
    return wrapped;
  }

  /** Resolves when the image is tagged or a stage failed for good, or after timeoutMs. */
  waitFor(imageId: string, timeoutMs: number): Promise<ImageOutcome> {
    const settled = this.outcome(imageId);
    if (settled) return Promise.resolve(settled);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(imageId);
        resolve({ status: 'timeout', stages: this.stages(imageId) });
      }, timeoutMs);
      this.waiters.set(imageId, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
  }

  private noteWrite(key: string, body: Buffer, options: PutOptions | undefined): void {
    const record = parseRecordKey(key);
    if (record) {
      const { stage } = record;
      if (stage === 'upload') {
        const photoRecord = parseRecord('upload', body);
        if (photoRecord) this.note(record.photo.imageId, (seen) => (seen.record = photoRecord));
      } else {
        const status = parseRecord(stage, body);
        if (status) this.note(record.photo.imageId, (seen) => (seen.legacy[stage] = status));
      }
      return;
    }
    const image = parseImageKey(key);
    const stage = image && (STAGE_OF_FOLDER[image.folder] as QueueStageName);
    if (!image || !stage || image.folder === 'original') return;
    const done = recordOfOutput(stage, key, { size: body.length, ...(options?.metadata ? { metadata: { ...options.metadata } } : {}) });
    if (done) this.note(image.imageId, (seen) => (seen.outputs[stage] = done));
  }

  private note(imageId: string, change: (seen: Seen) => void): void {
    const seen = this.seen.get(imageId) ?? { outputs: {}, legacy: {} };
    change(seen);
    this.seen.set(imageId, seen);
    const outcome = this.outcome(imageId);
    const waiter = this.waiters.get(imageId);
    if (outcome && waiter) {
      this.waiters.delete(imageId);
      waiter(outcome);
    }
  }

  private stages(imageId: string): StageRecords {
    const seen = this.seen.get(imageId);
    return seen ? stagesOf(seen.record, seen) : {};
  }

  private outcome(imageId: string): ImageOutcome | undefined {
    return this.seen.has(imageId) ? settledOutcome(this.stages(imageId)) : undefined;
  }
}
