import type { EntityError } from "../protocol/entity-error.js";
import type { LiveStateListener } from "./subscription.js";

/** What a UI shows of an entity's live state. */
export interface EntityStateView<S> {
  /** undefined until the first snapshot, null while the entity does not exist. */
  readonly state: S | null | undefined;
  readonly version: number;
  /** True once the first snapshot arrived. */
  readonly ready: boolean;
  /** Set when the server refused the subscription (e.g. `unknown_entity`). */
  readonly error?: EntityError;
}

/** The part of a client a live-state store needs. */
export interface LiveStateSource {
  subscribe<S>(entityId: string, listener: LiveStateListener<S>): { readonly ready: Promise<unknown>; close(): Promise<void> };
}

/** An external store (the `useSyncExternalStore` contract) over one entity's live state. */
export interface EntityStateStore<S> {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): EntityStateView<S>;
}

const NOT_READY: EntityStateView<never> = { state: undefined, version: 0, ready: false };

/** A store that subscribes to the entity while someone listens and hands out a new view per change. */
export function createEntityStateStore<S>(client: LiveStateSource, entityId: string): EntityStateStore<S> {
  let view: EntityStateView<S> = NOT_READY;
  return {
    subscribe(onChange) {
      const subscription = client.subscribe<S>(entityId, (state, info) => {
        view = { state, version: info.version, ready: true };
        onChange();
      });
      subscription.ready.catch((error: EntityError) => {
        view = { ...view, error };
        onChange();
      });
      return () => void subscription.close();
    },
    getSnapshot: () => view,
  };
}
