import * as React from "react";
import { createEntityStateStore, type EntityStateView, type LiveStateSource } from "./entity-state-store.js";

export type { EntityStateView, LiveStateSource } from "./entity-state-store.js";

/**
 * The live state of one entity, re-rendering on every committed change:
 * `const { state, version, ready } = useEntityState<Stats>(client, "Stats/demo")`.
 * Subscribes while the component is mounted and closes the subscription on unmount.
 */
export function useEntityState<S = unknown>(client: LiveStateSource, entityId: string): EntityStateView<S> {
  const store = React.useMemo(() => createEntityStateStore<S>(client, entityId), [client, entityId]);
  return React.useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
