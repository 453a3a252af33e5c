import { describe, expect, it } from "vitest";
import { isEntityError } from "../../../protocol/index.js";
import { EntityRegistry, defineEntity, isEntityDefinition } from "../../../src/runtime/index.js";
import { Counter, Log } from "../support/entities.js";

const Fn = defineEntity("Fn", () => undefined);

describe("defineEntity", () => {
  it("makes branded definitions of both kinds", () => {
    expect(isEntityDefinition(Counter)).toBe(true);
    expect(Counter.kind).toBe("operations");
    expect(Fn.kind).toBe("dispatch");
    expect(isEntityDefinition({ kind: "operations", name: "X" })).toBe(false);
    expect(isEntityDefinition(null)).toBe(false);
  });

  it("rejects bad names and specs", () => {
    for (const name of ["", "9x", "a/b", "has space", "n".repeat(129)]) expect(() => defineEntity(name, () => undefined)).toThrow(TypeError);
    expect(() => defineEntity("X", { initialState: 0, operations: {} } as never)).toThrow(/needs \{ initialState/);
    expect(() => defineEntity("X", { initialState: () => 0, operations: { a: 1 } } as never)).toThrow('operation "a" of entity "X" is not a function');
  });
});

describe("EntityRegistry", () => {
  const registry = new EntityRegistry([Counter, Log, Fn]);

  it("lists and finds its types", () => {
    expect(registry.names).toEqual(["Counter", "Log", "Fn"]);
    expect(registry.definition("Log")).toBe(Log);
    expect(registry.definition("Nope")).toBeUndefined();
  });

  it("accepts known ids and operations", () => {
    expect(registry.check("Counter/a")).toBeUndefined();
    expect(registry.check("Counter/a/b", "add")).toBeUndefined();
    expect(registry.check("Fn/x", "anything")).toBeUndefined();
  });

  it("answers a malformed id, an unknown type and an unknown operation with coded errors", () => {
    const cases: Array<[string, string | undefined, string, string]> = [
      ["Counter", undefined, "bad_request", 'entity id "Counter" must look like Name/key'],
      ["Nope/a", "add", "unknown_entity", 'no entity type "Nope" on this server (it has: Counter, Log, Fn)'],
      ["Counter/a", "nope", "unknown_operation", 'entity type "Counter" has no operation "nope" (it has: add, get)'],
      ["Counter/a", "constructor", "unknown_operation", 'has no operation "constructor"'],
      ["Counter/a", "__proto__", "unknown_operation", 'has no operation "__proto__"'],
    ];
    for (const [id, op, code, message] of cases) {
      const error = registry.check(id, op);
      expect(isEntityError(error)).toBe(true);
      expect(error?.code).toBe(code);
      expect(error?.message).toContain(message);
    }
  });

  it("refuses two types of the same name", () => {
    expect(() => new EntityRegistry([Counter, defineEntity("Counter", () => 0)])).toThrow('entity type "Counter" is defined twice');
  });
});
