import jsonPatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import type { PatchFrame, SnapshotFrame } from "../protocol/server-frames.js";

/** The live state a client holds for one entity. */
export interface LiveState {
  readonly state: unknown;
  readonly version: number;
}

/** What to do with one live-state frame. */
export type LiveStep =
  | { readonly type: "apply"; readonly kind: "snapshot" | "patch"; readonly state: unknown; readonly version: number }
  /** Already applied, or no snapshot yet to apply it to. */
  | { readonly type: "ignore" }
  /** A version is missing or the patch does not fit the state: ask for a fresh snapshot. */
  | { readonly type: "gap" };

const IGNORE: LiveStep = { type: "ignore" };
const GAP: LiveStep = { type: "gap" };

/**
 * The next live state after a `snapshot` or `patch` frame. A snapshot always replaces the state; a
 * patch applies only on top of version `current.version` and yields a new object (the previous state
 * is never mutated, so listeners see a new reference). `current` is undefined while no snapshot is held.
 */
export function stepLiveState(current: LiveState | undefined, frame: SnapshotFrame | PatchFrame): LiveStep {
  if (frame.type === "snapshot") return { type: "apply", kind: "snapshot", state: frame.state ?? null, version: frame.version };
  if (current === undefined || frame.version <= current.version) return IGNORE;
  if (frame.version !== current.version + 1) return GAP;
  try {
    const { newDocument } = jsonPatch.applyPatch(current.state, frame.patch as Operation[], true, false);
    return { type: "apply", kind: "patch", state: newDocument ?? null, version: frame.version };
  } catch {
    return GAP;
  }
}
