import { describe, expect, it } from "vitest";
import { isEntityError } from "../../../protocol/index.js";
import { EntityRegistry, defineEntity, isEntityDefinition } from "../../../src/runtime/index.js";
import { MAX_QUOTED_CHARS, quoteRequested } from "../../../src/runtime/entity-registry.js";
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

describe("EntityRegistry error messages", () => {
  // A refused frame's answer must stay small whatever the request names and however large the app:
  // errors that differ per frame cannot be coalesced, so each costs its own bytes.
  const many = Array.from({ length: 15 }, (_, i) => defineEntity(`Type${i}`, { initialState: () => 0, operations: Object.fromEntries(Array.from({ length: 30 }, (_, j) => [`operation${j}`, () => j])) }));
  const registry = new EntityRegistry(many);

  it("quote at most the first 64 characters of a requested type name, marked when cut", () => {
    const name = `T${"x".repeat(127)}`;
    const error = registry.check(`${name}/k`)!;
    expect(error.code).toBe("unknown_entity");
    expect(error.message).toContain(`no entity type "T${"x".repeat(63)}"… (128 characters) on this server`);
    expect(error.message).not.toContain("x".repeat(64));
  });

  it("quote at most the first 64 characters of a requested operation, marked when cut", () => {
    const op = "o".repeat(100_000);
    const error = registry.check("Type3/k", op)!;
    expect(error.code).toBe("unknown_operation");
    expect(error.message).toContain(`entity type "Type3" has no operation "${"o".repeat(64)}"… (100000 characters)`);
    expect(error.message.length).toBeLessThan(400);
  });

  it("quote requested names as JSON, so quotes and control characters stay readable", () => {
    expect(registry.check("Type1/k", 'say "hi"\n')!.message).toContain('has no operation "say \\"hi\\"\\n"');
    expect(registry.check("Type1/k", "tab\there")!.message).toContain('has no operation "tab\\there"');
  });

  it("list at most 10 of the app's types or operations, and say how many more", () => {
    const unknownType = registry.check("Nope/k")!.message;
    expect(unknownType).toBe('no entity type "Nope" on this server (it has: Type0, Type1, Type2, Type3, Type4, Type5, Type6, Type7, Type8, Type9, … and 5 more)');
    const unknownOperation = registry.check("Type0/k", "nope")!.message;
    expect(unknownOperation).toBe(
      'entity type "Type0" has no operation "nope" (it has: operation0, operation1, operation2, operation3, operation4, operation5, operation6, operation7, operation8, operation9, … and 20 more)',
    );
  });

  it("keep the list short when the app's names are long", () => {
    const longTypes = new EntityRegistry(Array.from({ length: 12 }, (_, i) => defineEntity(`${String.fromCharCode(65 + i)}${"n".repeat(127)}`, () => undefined)));
    const message = longTypes.check("Nope/k")!.message;
    // Each name cut to 64 characters, and no more names than fit in about 200.
    expect(message).toBe(`no entity type "Nope" on this server (it has: A${"n".repeat(63)}…, B${"n".repeat(63)}…, C${"n".repeat(63)}…, … and 9 more)`);
    const longOperation = new EntityRegistry([defineEntity("Wide", { initialState: () => 0, operations: { ["x".repeat(10_000)]: () => 1, ok: () => 2 } })]);
    expect(longOperation.check("Wide/k", "nope")!.message).toBe(`entity type "Wide" has no operation "nope" (it has: ${"x".repeat(64)}…, ok)`);
  });

  it("repeat at most the first 64 characters of a malformed entity id", () => {
    const id = "no slash ".repeat(20_000);
    const error = registry.check(id)!;
    expect(error.code).toBe("bad_request");
    expect(error.message).toBe(`entity id ${JSON.stringify(id.slice(0, 64))}… (${id.length} characters) must look like Name/key (e.g. Counter/alice)`);
  });

  it("keep every message small, whatever was asked", () => {
    for (const [id, op] of [
      ["x".repeat(1_000_000), undefined],
      [`${"T".repeat(128)}/k`, "op"],
      ["Type0/k", "\u0000".repeat(500_000)],
    ] as const) {
      expect(registry.check(id, op)!.message.length).toBeLessThan(1024); // 64 characters, six each at worst as JSON escapes
    }
  });

  it("do not split a character made of two UTF-16 units", () => {
    const quoted = quoteRequested(`${"a".repeat(MAX_QUOTED_CHARS - 1)}😀tail`);
    expect(quoted).toBe(`"${"a".repeat(MAX_QUOTED_CHARS - 1)}"… (${MAX_QUOTED_CHARS + 5} characters)`);
    expect(quoteRequested("short")).toBe('"short"');
  });
});
