import fastJsonPatch from "fast-json-patch";
import type { PatchFrame, SnapshotFrame } from "../../../protocol/index.js";
import type { EntityChange } from "../../runtime/index.js";

const { compare } = fastJsonPatch;

/**
 * Encodes one committed change once (UTF-8 bytes, so no socket encodes it again), for every subscriber: an RFC 6902 patch from the previous state,
 * or the whole state when that is smaller (or when either side is not an object, which a patch
 * cannot address without replacing the root).
 */
export function encodeChange(change: EntityChange): Buffer {
  const snapshot: SnapshotFrame = { type: "snapshot", entity: change.entityId, state: change.state, version: change.version };
  const snapshotText = JSON.stringify(snapshot);
  const snapshotBytes = Buffer.from(snapshotText);
  if (!isContainer(change.previousState) || !isContainer(change.state)) return snapshotBytes;
  if (Array.isArray(change.previousState) !== Array.isArray(change.state)) return snapshotBytes;
  const patch = compare(change.previousState, change.state) as PatchFrame["patch"];
  const patchBytes = Buffer.from(JSON.stringify({ type: "patch", entity: change.entityId, version: change.version, patch } satisfies PatchFrame));
  return patchBytes.length < snapshotBytes.length ? patchBytes : snapshotBytes;
}

function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}
