import { describe, expect, it } from "vitest";
import { EntityId, parseEntityId } from "../../../protocol/index.js";

describe("parseEntityId", () => {
  it("splits at the first slash; the key may contain slashes", () => {
    expect(parseEntityId("Counter/alice")).toEqual({ name: "Counter", key: "alice" });
    expect(parseEntityId("Files/a/b/c")).toEqual({ name: "Files", key: "a/b/c" });
    expect(parseEntityId("Files//")).toEqual({ name: "Files", key: "/" });
    expect(parseEntityId("_x.y-z9/ key with spaces ")).toEqual({ name: "_x.y-z9", key: " key with spaces " });
  });

  it("returns undefined for malformed ids", () => {
    for (const id of ["", "Counter", "Counter/", "/alice", "9lives/a", "-a/b", "Na me/a", "Ça/a", `${"N".repeat(129)}/a`, `N/${"k".repeat(513)}`]) {
      expect(parseEntityId(id), id).toBeUndefined();
    }
  });

  it("accepts the longest name and key", () => {
    const name = `N${"n".repeat(127)}`;
    const key = "k".repeat(512);
    expect(parseEntityId(`${name}/${key}`)).toEqual({ name, key });
  });
});

describe("EntityId schema", () => {
  it("accepts what parseEntityId accepts and rejects the rest", () => {
    expect(EntityId.safeParse("Counter/a/b").success).toBe(true);
    expect(EntityId.safeParse("Counter").success).toBe(false);
    expect(EntityId.safeParse(7).success).toBe(false);
  });
});
