import type { LoadedEntity } from "./loaded-entity.js";

/**
 * Entities in memory, least recently used first. Past `capacity`, idle entities (empty mailbox, no
 * commit in flight) leave memory; they load again from the store on their next operation.
 */
export class EntityCache {
  private readonly entities = new Map<string, LoadedEntity>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entities.size;
  }

  get(id: string): LoadedEntity | undefined {
    return this.entities.get(id);
  }

  /** Every entity in memory, least recently used first. */
  values(): IterableIterator<LoadedEntity> {
    return this.entities.values();
  }

  /** Forgets every entity (after a failed commit: memory may be ahead of the store). */
  clear(): void {
    this.entities.clear();
  }

  /** Adds an entity, or marks it most recently used. */
  touch(entity: LoadedEntity): void {
    this.entities.delete(entity.id);
    this.entities.set(entity.id, entity);
  }

  /** Evicts idle entities, oldest first, until the cache is within capacity (busy ones stay). */
  evictIdle(): number {
    let excess = this.entities.size - this.capacity;
    let evicted = 0;
    if (excess <= 0) return 0;
    for (const entity of this.entities.values()) {
      if (excess <= 0) break;
      if (!entity.idle) continue;
      this.entities.delete(entity.id);
      excess--;
      evicted++;
    }
    return evicted;
  }
}
