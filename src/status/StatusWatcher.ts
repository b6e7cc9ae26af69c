import { parseRecordKey } from '../domain/keys';
import type { StageName } from '../domain/stages';
import type { ObjectStore } from '../ports/ObjectStore';
import { type ImageOutcome, settledOutcome } from './settledOutcome';
import { type StageStatus, StageStatusSchema } from './stageStatus';

/**
 * Learns of stage records as they are written, for a runtime that holds the store in-process
 * (the embedded default): `wrap(store)` passes every call through and notes status writes, and
 * `waitFor(id)` resolves when that image is tagged or failed — no polling of hundreds of images.
 */
export class StatusWatcher {
  private readonly stages = new Map<string, Partial<Record<StageName, StageStatus>>>();
  private readonly waiters = new Map<string, (outcome: ImageOutcome) => void>();

  wrap(store: ObjectStore): ObjectStore {
    const wrapped: ObjectStore = Object.create(store) as ObjectStore;
    wrapped.put = async (key, body, options) => {
      await store.put(key, body, options);
      const record = parseRecordKey(key);
      if (record) this.note(record.photo.imageId, body);
    };
    wrapped.putIfAbsent = async (key, body, options) => {
      const written = await store.putIfAbsent(key, body, options);
      const record = parseRecordKey(key);
      if (written && record) this.note(record.photo.imageId, body);
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
        resolve({ status: 'timeout', stages: this.stages.get(imageId) ?? {} });
      }, timeoutMs);
      this.waiters.set(imageId, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
  }

  private note(imageId: string, body: Buffer): void {
    const parsed = StageStatusSchema.safeParse(JSON.parse(body.toString('utf8')));
    if (!parsed.success) return;
    const stages = this.stages.get(imageId) ?? {};
    stages[parsed.data.stage] = parsed.data;
    this.stages.set(imageId, stages);
    const outcome = this.outcome(imageId);
    const waiter = this.waiters.get(imageId);
    if (outcome && waiter) {
      this.waiters.delete(imageId);
      waiter(outcome);
    }
  }

  private outcome(imageId: string): ImageOutcome | undefined {
    const stages = this.stages.get(imageId);
    return stages ? settledOutcome(stages) : undefined;
  }
}
