import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cloneJson, jsonEqual } from "../../../src/runtime/index.js";

/** True when a value holds an own "__proto__" key anywhere (fc.jsonValue() generates some). */
function hasProtoKey(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (!Array.isArray(value) && Object.hasOwn(value, "__proto__")) return true;
  return Object.values(value).some(hasProtoKey);
}

/** JSON values without "__proto__" keys, which cloneJson refuses on purpose (see the test below). */
const jsonValue = (constraints: fc.JsonSharedConstraints = {}) => fc.jsonValue(constraints).filter((v) => !hasProtoKey(v));

describe("cloneJson", () => {
  it("deep-copies objects and arrays", () => {
    const value = { a: 1, nested: { list: [1, { b: "x" }], empty: {} }, s: "str", t: true, n: null };
    const copy = cloneJson(value);
    expect(copy).toEqual(value);
    expect(copy).not.toBe(value);
    expect(copy.nested).not.toBe(value.nested);
    expect(copy.nested.list).not.toBe(value.nested.list);
    expect(copy.nested.list[1]).not.toBe(value.nested.list[1]);
    copy.nested.list.push(2);
    (copy.nested.list[1] as { b: string }).b = "changed";
    expect(value).toEqual({ a: 1, nested: { list: [1, { b: "x" }], empty: {} }, s: "str", t: true, n: null });
  });

  it("returns primitives as they are", () => {
    for (const value of [0, -1.5, "", "text", true, false, null]) expect(cloneJson(value)).toBe(value);
    expect(cloneJson(undefined)).toBeUndefined();
  });

  it("drops undefined properties and turns undefined array items into null", () => {
    const copy = cloneJson({ a: undefined, b: 1, list: [undefined, 2, undefined] });
    expect(copy).toEqual({ b: 1, list: [null, 2, null] });
    expect(Object.keys(copy)).toEqual(["b", "list"]);
    expect(cloneJson([1, , 3])).toEqual([1, null, 3]);
  });

  it("converts a Date to its ISO string", () => {
    expect(cloneJson({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) })).toEqual({ at: "2024-01-02T03:04:05.006Z" });
  });

  it("accepts objects without a prototype and returns plain ones", () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    const copy = cloneJson(bare);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(copy).toEqual({ a: 1 });
  });

  it("rejects what JSON cannot carry with a TypeError naming the path", () => {
    class Point {
      x = 1;
    }
    const cases: Array<[unknown, string]> = [
      [{ a: { f: () => 1 } }, "$.a.f is a function"],
      [{ list: [1, Symbol("s")] }, "$.list[1] is a symbol"],
      [{ big: 10n }, "$.big is a bigint"],
      [{ n: [0, { x: Number.NaN }] }, "$.n[1].x is NaN"],
      [{ inf: Infinity }, "$.inf is Infinity"],
      [{ ninf: [-Infinity] }, "$.ninf[0] is -Infinity"],
      [{ m: new Map([["k", 1]]) }, "$.m is a Map"],
      [{ s: [new Set([1])] }, "$.s[0] is a Set"],
      [{ p: new Point() }, "$.p is a Point"],
      [() => 0, "$ is a function"],
    ];
    for (const [value, message] of cases) {
      expect(() => cloneJson(value)).toThrow(TypeError);
      expect(() => cloneJson(value)).toThrow(`${message}, which JSON cannot carry`);
    }
  });

  it("property: a clone of any JSON value is jsonEqual to it and a new object", () => {
    fc.assert(
      fc.property(jsonValue(), (value) => {
        const copy = cloneJson(value);
        expect(jsonEqual(value, copy)).toBe(true);
        expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
        if (typeof value === "object" && value !== null) expect(copy).not.toBe(value);
      }),
      { numRuns: 500 },
    );
  });

  // An own "__proto__" key (JSON.parse makes them) would become a prototype on assignment; entity
  // state refuses it with a clear error instead, as fast-json-patch refuses "/__proto__" paths.
  it("rejects an own __proto__ key, naming its path", () => {
    expect(() => cloneJson(JSON.parse('{"__proto__": null}'))).toThrow(/\$ has a "__proto__" key/);
    expect(() => cloneJson(JSON.parse('{"a": {"__proto__": {"x": 1}}}'))).toThrow(/\$\.a has a "__proto__" key/);
  });
});

describe("jsonEqual", () => {
  it("compares JSON values deeply, ignoring key order", () => {
    expect(jsonEqual({ a: [1, { b: null }], c: "x" }, { c: "x", a: [1, { b: null }] })).toBe(true);
    expect(jsonEqual([], [])).toBe(true);
    expect(jsonEqual({}, {})).toBe(true);
    expect(jsonEqual(null, null)).toBe(true);
    expect(jsonEqual(undefined, undefined)).toBe(true);
  });

  it("tells different values apart", () => {
    const pairs: Array<[unknown, unknown]> = [
      [1, "1"],
      [null, {}],
      [undefined, null],
      [[], {}],
      [{}, []],
      [[1, 2], [2, 1]],
      [[1], [1, 1]],
      [{ a: 1 }, { a: 1, b: 2 }],
      [{ a: 1, b: 2 }, { a: 1, c: 2 }],
      [{ a: { b: [1] } }, { a: { b: [2] } }],
      [{ a: undefined }, { b: undefined }],
      [0, false],
      ["", null],
    ];
    for (const [a, b] of pairs) {
      expect(jsonEqual(a, b)).toBe(false);
      expect(jsonEqual(b, a)).toBe(false);
    }
  });

  it("property: agrees with comparing canonical JSON text", () => {
    const canonical = (value: unknown): string =>
      JSON.stringify(value, (_key, v: unknown) =>
        typeof v === "object" && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
      );
    fc.assert(
      fc.property(jsonValue({ maxDepth: 3 }), jsonValue({ maxDepth: 3 }), (a, b) => {
        expect(jsonEqual(a, b)).toBe(canonical(a) === canonical(b));
        expect(jsonEqual(a, cloneJson(a))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("cloneJson depth", () => {
  it("refuses values nested deeper than MAX_JSON_DEPTH, which could not be stored", () => {
    const nest = (depth: number): unknown => (depth === 0 ? 1 : [nest(depth - 1)]);
    expect(() => cloneJson(nest(250))).not.toThrow();
    expect(() => cloneJson(nest(3000))).toThrow(/nests deeper than 256 levels/);
    expect(() => cloneJson({ a: [{ b: nest(300) }] })).toThrow(/^\$\.a\[0\]\.b(\[0\])+ nests deeper/);
  });
});
