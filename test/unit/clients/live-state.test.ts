import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import jsonPatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { JsonPatchOperation, PatchFrame, SnapshotFrame } from "../../../protocol/server-frames.js";
import { stepLiveState } from "../../../clients/live-state.js";

const entity = "Stats/demo";

function snapshot(state: unknown, version: number): SnapshotFrame {
  return { type: "snapshot", entity, state, version };
}

function patch(version: number, ops: JsonPatchOperation[]): PatchFrame {
  return { type: "patch", entity, version, patch: ops };
}

describe("stepLiveState", () => {
  it("replaces the state with any snapshot, older or newer", () => {
    expect(stepLiveState(undefined, snapshot({ a: 1 }, 3))).toEqual({ type: "apply", kind: "snapshot", state: { a: 1 }, version: 3 });
    expect(stepLiveState({ state: { a: 9 }, version: 7 }, snapshot(null, 0))).toEqual({ type: "apply", kind: "snapshot", state: null, version: 0 });
  });

  it("applies the next patch to a copy, leaving the old state untouched", () => {
    const old = { count: 1, tags: ["x"] };
    const step = stepLiveState({ state: old, version: 4 }, patch(5, [{ op: "replace", path: "/count", value: 2 }, { op: "add", path: "/tags/-", value: "y" }]));
    expect(step).toEqual({ type: "apply", kind: "patch", state: { count: 2, tags: ["x", "y"] }, version: 5 });
    expect(old).toEqual({ count: 1, tags: ["x"] });
    expect(step.type === "apply" && step.state).not.toBe(old);
  });

  it("creates and deletes the entity through root patches", () => {
    const created = stepLiveState({ state: null, version: 0 }, patch(1, [{ op: "replace", path: "", value: { n: 1 } }]));
    expect(created).toMatchObject({ type: "apply", state: { n: 1 }, version: 1 });
    const deleted = stepLiveState({ state: { n: 1 }, version: 1 }, patch(2, [{ op: "replace", path: "", value: null }]));
    expect(deleted).toMatchObject({ type: "apply", state: null, version: 2 });
  });

  it("ignores patches already applied and patches before the first snapshot", () => {
    const op: JsonPatchOperation[] = [{ op: "replace", path: "/n", value: 5 }];
    expect(stepLiveState({ state: { n: 1 }, version: 4 }, patch(4, op))).toEqual({ type: "ignore" });
    expect(stepLiveState({ state: { n: 1 }, version: 4 }, patch(2, op))).toEqual({ type: "ignore" });
    expect(stepLiveState(undefined, patch(1, op))).toEqual({ type: "ignore" });
  });

  it("reports a gap when a version is skipped or the patch does not fit", () => {
    expect(stepLiveState({ state: { n: 1 }, version: 4 }, patch(6, [{ op: "replace", path: "/n", value: 5 }]))).toEqual({ type: "gap" });
    expect(stepLiveState({ state: { n: 1 }, version: 4 }, patch(5, [{ op: "replace", path: "/missing/deep", value: 5 }]))).toEqual({ type: "gap" });
    expect(stepLiveState({ state: { n: 1 }, version: 4 }, patch(5, [{ op: "test", path: "/n", value: 2 }]))).toEqual({ type: "gap" });
  });

  it("turns the old state into the new one for any diff", () => {
    const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
    const state = fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }).map(plain);
    fc.assert(
      fc.property(state, state, fc.nat({ max: 1000 }), (before, after, version) => {
        const frozen = JSON.stringify(before);
        const ops = jsonPatch.compare(before as object, after as object) as JsonPatchOperation[];
        const step = stepLiveState({ state: before, version }, patch(version + 1, ops));
        return step.type === "apply" && JSON.stringify(before) === frozen && isDeepStrictEqual(step.state, after);
      }),
    );
  });
});
