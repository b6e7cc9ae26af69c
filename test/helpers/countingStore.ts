import type { ObjectStore } from '../../src/ports/ObjectStore';

/** What a counting store saw: every write's key, in order, and how many reads of each kind. */
export interface StoreCalls {
  /** The key of every object write (put, and any other `put…` method such as putIfAbsent). */
  writes: string[];
  reads: { get: number; exists: number; head: number; list: number };
  /** Copies inside the store (S3: CopyObject, a PUT-class request). */
  copies: number;
}

/**
 * A counting decorator over a real store: every call passes through unchanged, and each write's key
 * and each read is noted. It is a Proxy, so a write method the interface gains later (putIfAbsent,
 * say) is counted without changing this file: any method whose name starts with `put` is a write.
 */
export function countingStore(store: ObjectStore): { store: ObjectStore; calls: StoreCalls } {
  const calls: StoreCalls = { writes: [], reads: { get: 0, exists: 0, head: 0, list: 0 }, copies: 0 };
  const counted = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        if (property.startsWith('put')) calls.writes.push(String(args[0]));
        else if (property === 'copy') calls.copies += 1;
        else if (property === 'get' || property === 'exists' || property === 'head' || property === 'list') calls.reads[property] += 1;
        return method.apply(target, args);
      };
    },
  });
  return { store: counted, calls };
}
