import { describe, expect, it } from "vitest";
import { copyInput } from "../../../clients/json-input.js";
import { isEntityError } from "../../../protocol/entity-error.js";

/** The message of the bad_request copyInput answers, or a test failure. */
function refusal(input: unknown, what?: string): string {
  const result = copyInput(input, what);
  if (!isEntityError(result)) throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
  expect(result.code).toBe("bad_request");
  return result.message;
}

describe("copyInput", () => {
  it("refuses a function instead of sending nothing, and names the value", () => {
    expect(refusal(() => 1)).toBe("the input cannot be encoded as JSON: input is a function, which JSON cannot carry");
    expect(refusal({ item: { onDone: () => 1 } })).toBe("the input cannot be encoded as JSON: input.item.onDone is a function, which JSON cannot carry");
    expect(refusal({ list: [1, 2, function named() {}] })).toContain("input.list[2] is a function");
    expect(refusal({ "odd key": Symbol("s") })).toContain('input["odd key"] is a symbol');
    expect(refusal(10n, "event data")).toBe("the event data cannot be encoded as JSON: event data is a bigint, which JSON cannot carry");
  });

  it("refuses values JSON.stringify would silently drop or change", () => {
    expect(refusal({ n: Number.NaN })).toContain("input.n is NaN");
    expect(refusal([Number.POSITIVE_INFINITY])).toContain("input[0] is Infinity");
    expect(refusal({ tags: new Set(["a"]) })).toContain("input.tags is a Set");
    expect(refusal({ index: new Map() })).toContain("input.index is a Map");
    expect(refusal({ pending: Promise.resolve(1) })).toContain("input.pending is a promise");
    expect(refusal({ error: new Error("x") })).toContain("input.error is an Error");
  });

  it("refuses a cycle, and nesting deeper than the server takes", () => {
    const cyclic: Record<string, unknown> = { a: { b: {} } };
    (cyclic.a as { b: Record<string, unknown> }).b.back = cyclic;
    expect(refusal(cyclic)).toContain("input.a.b.back refers back to an object that contains it");
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(refusal(deep)).toContain("nests deeper than 256 levels");
  });

  it("copies JSON values as JSON.stringify would encode them", () => {
    const shared = { x: 1 };
    const input = {
      when: new Date(0),
      skipped: undefined,
      holes: [undefined, 1],
      twice: [shared, shared],
      boxed: new String("s"),
      custom: { toJSON: () => ({ kept: true }) },
      deep: { list: [{ a: "b" }] },
    };
    const copy = copyInput(input);
    expect(copy).toEqual(JSON.parse(JSON.stringify(input)));
    expect(Object.keys(copy as object)).not.toContain("skipped");
    input.deep.list.push({ a: "c" });
    expect((copy as typeof input).deep.list).toEqual([{ a: "b" }]);
  });

  it("keeps a __proto__ key as data", () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}}');
    const copy = copyInput(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":true}}');
  });

  it("passes primitives and undefined through", () => {
    for (const value of [undefined, null, "s", true, 0, -1.5]) expect(copyInput(value)).toBe(value);
  });
});
