import type { ObjectStore } from '../../src/ports/ObjectStore';

/**
 * A real store with some of its methods replaced (a fault injected, a write held): everything else
 * passes through to it unchanged, methods the interface gains later and optional ones (presignGet,
 * getStream) included, and it is still an instance of the store's class.
 */
export function overridingStore(store: ObjectStore, overrides: Partial<ObjectStore>): ObjectStore {
  return new Proxy(store, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof ObjectStore];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
