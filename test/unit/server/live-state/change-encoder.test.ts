import fc from "fast-check";
import jsonPatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { PatchFrame, SnapshotFrame } from "../../../../protocol/index.js";
import { cloneJson, jsonEqual, type EntityChange } from "../../../../src/runtime/index.js";
import { encodeChange } from "../../../../src/server/live-state/change-encoder.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const entity = "Doc/x";

/** Keys that stress JSON Pointer escaping (`/`, `~`, empty, `-`, digits) and ordinary ones. "__proto__" is left out: entity state refuses it. */
const key = fc.oneof(fc.constantFrom("a", "b", "c", "items", "", "-", "0", "1", "a/b", "~", "~0", "~1", "x~/y"), fc.string({ maxLength: 4 })).filter((k) => k !== "__proto__");
const leaf: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 12, unit: "grapheme" }),
);
const { json, object } = fc.letrec<{ json: Json; array: Json[]; object: JsonObject }>((tie) => ({
  json: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("json"), { maxLength: 5 }),
  object: fc.dictionary(key, tie("json"), { maxKeys: 6, noNullPrototype: true }),
}));

/** One random edit: where to go (a choice per level) and what to do there. */
type Edit = {
  path: number[];
  action: "set" | "delete" | "push" | "splice" | "nest" | "replaceChild";
  key: string;
  n: number;
  m: number;
  value: Json;
  items: Json[];
};
const edit: fc.Arbitrary<Edit> = fc.record({
  path: fc.array(fc.nat(), { maxLength: 4 }),
  action: fc.constantFrom("set", "delete", "push", "splice", "nest", "replaceChild"),
  key,
  n: fc.nat(),
  m: fc.nat(),
  value: json,
  items: fc.array(json, { maxLength: 3 }),
});

function isContainer(value: Json): value is Json[] | JsonObject {
  return typeof value === "object" && value !== null;
}

function childKeys(container: Json[] | JsonObject): Array<string | number> {
  return Array.isArray(container) ? container.map((_, i) => i) : Object.keys(container);
}

/** Applies an edit in place to `root`: walks down by the edit's choices, then changes the container it reached. */
function applyEdit(root: JsonObject, e: Edit): void {
  let container: Json[] | JsonObject = root;
  for (const choice of e.path) {
    const keys = childKeys(container);
    if (keys.length === 0) break;
    const next: Json = (container as Record<string | number, Json>)[keys[choice % keys.length]!]!;
    if (!isContainer(next)) break;
    container = next;
  }
  const value = cloneJson(e.value);
  if (Array.isArray(container)) {
    const length = container.length;
    switch (e.action) {
      case "set":
        container[e.n % (length + 1)] = value;
        break;
      case "delete":
        if (length > 0) container.splice(e.n % length, 1);
        break;
      case "push":
      case "nest":
        container.push(e.action === "nest" ? { [e.key]: value } : value);
        break;
      case "splice":
        container.splice(e.n % (length + 1), e.m % 3, ...cloneJson(e.items));
        break;
      case "replaceChild":
        if (length > 0) container[e.n % length] = Array.isArray(value) ? { [e.key]: value } : [value];
        break;
    }
    return;
  }
  const keys = Object.keys(container);
  switch (e.action) {
    case "set":
      container[e.key] = value;
      break;
    case "delete":
      if (keys.length > 0) delete container[keys[e.n % keys.length]!];
      break;
    case "push":
    case "splice":
      container[e.key] = [...cloneJson(e.items), value];
      break;
    case "nest":
      container[e.key] = { [e.key]: value, list: [value] };
      break;
    case "replaceChild":
      if (keys.length > 0) {
        const target = keys[e.n % keys.length]!;
        container[target] = isContainer(container[target]!) ? value : { [e.key]: value };
      }
      break;
  }
}

function snapshotText(change: EntityChange): string {
  return JSON.stringify({ type: "snapshot", entity: change.entityId, state: change.state, version: change.version } satisfies SnapshotFrame);
}

function patchText(change: EntityChange): string {
  const patch = jsonPatch.compare(change.previousState as object, change.state as object) as PatchFrame["patch"];
  return JSON.stringify({ type: "patch", entity: change.entityId, version: change.version, patch } satisfies PatchFrame);
}

/** Checks one encoded change against the states it came from; returns which encoding was chosen. */
function checkEncoding(previousState: Json, state: Json, version = 7): "patch" | "snapshot" {
  const before = cloneJson(previousState);
  const change: EntityChange = { entityId: entity, version, previousState, state };
  const text = encodeChange(change).toString();
  expect(jsonEqual(previousState, before)).toBe(true);
  const frame = JSON.parse(text) as PatchFrame | SnapshotFrame;
  expect(frame.entity).toBe(entity);
  expect(frame.version).toBe(version);
  if (frame.type === "patch") {
    const applied = jsonPatch.applyPatch(cloneJson(previousState), frame.patch as jsonPatch.Operation[], true).newDocument;
    expect(jsonEqual(applied, state)).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(Buffer.byteLength(snapshotText(change)));
  } else {
    expect(frame.type).toBe("snapshot");
    expect(jsonEqual(frame.state, state)).toBe(true);
    if (isContainer(previousState) && isContainer(state) && Array.isArray(previousState) === Array.isArray(state)) {
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(Buffer.byteLength(patchText(change)));
    }
  }
  return frame.type;
}

describe("encodeChange", () => {
  it("property: for a random object state and random edits, the patch rebuilds the new state, or the snapshot is it", () => {
    const chosen = { patch: 0, snapshot: 0 };
    fc.assert(
      fc.property(object, fc.array(edit, { minLength: 1, maxLength: 8 }), (previousState, edits) => {
        const state = cloneJson(previousState);
        for (const e of edits) applyEdit(state, e);
        chosen[checkEncoding(previousState, state)]++;
      }),
      { numRuns: 1000 },
    );
    // Both encodings must actually be exercised, or the property proves little.
    expect(chosen.patch).toBeGreaterThan(100);
    expect(chosen.snapshot).toBeGreaterThan(10);
  });

  it("property: holds for unrelated pairs of states of any JSON type", () => {
    fc.assert(
      fc.property(json, json, (previousState, state) => {
        checkEncoding(previousState, state);
      }),
      { numRuns: 1000 },
    );
  });

  it("property: holds for array states edited in place", () => {
    fc.assert(
      fc.property(fc.array(json, { maxLength: 8 }), fc.array(edit, { minLength: 1, maxLength: 6 }), (list, edits) => {
        const root = { list: cloneJson(list) };
        for (const e of edits) applyEdit(root, { ...e, path: [0, ...e.path] });
        checkEncoding(list, root.list);
      }),
      { numRuns: 500 },
    );
  });

  it("sends a small change to a large state as a patch", () => {
    const previousState = { items: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}` })), title: "t" };
    const state = cloneJson(previousState);
    state.items[10]!.name = "renamed";
    state.title = "u";
    const frame = JSON.parse(encodeChange({ entityId: entity, version: 3, previousState, state }).toString()) as PatchFrame;
    expect(frame.type).toBe("patch");
    expect(frame.version).toBe(3);
    expect(jsonPatch.applyPatch(cloneJson(previousState), frame.patch as jsonPatch.Operation[]).newDocument).toEqual(state);
  });

  it("sends a snapshot when a side is not an object, or the root type changes", () => {
    const cases: Array<[Json, Json]> = [
      [null, { n: 1 }],
      [{ n: 1 }, null],
      [1, 2],
      ["a", { a: 1 }],
      [[1, 2, 3], { 0: 1, 1: 2, 2: 3 }],
      [{ 0: 1 }, [1]],
    ];
    for (const [previousState, state] of cases) {
      expect(JSON.parse(encodeChange({ entityId: entity, version: 2, previousState, state }).toString())).toEqual({ type: "snapshot", entity, state, version: 2 });
    }
  });

  it("escapes keys with / and ~ in patch paths", () => {
    const previousState = { "a/b": 1, "~x": { "": 2 }, pad: "p".repeat(200) };
    const state = { "a/b": 10, "~x": { "": 20 }, pad: "p".repeat(200) };
    const frame = JSON.parse(encodeChange({ entityId: entity, version: 4, previousState, state }).toString()) as PatchFrame;
    expect(frame.type).toBe("patch");
    expect(frame.patch).toEqual(
      expect.arrayContaining([
        { op: "replace", path: "/a~1b", value: 10 },
        { op: "replace", path: "/~0x/", value: 20 },
      ]),
    );
  });
});
