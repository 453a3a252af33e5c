import { describe, expect, it } from "vitest";
import { EntityError, ErrorCode, isEntityError } from "../../../protocol/index.js";

describe("isEntityError", () => {
  it("is true for an EntityError, with its code, message and details", () => {
    const error = new EntityError(ErrorCode.unknown_entity, "no such type", { name: "X" });
    expect(isEntityError(error)).toBe(true);
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.code, error.message, error.details]).toEqual(["EntityError", "unknown_entity", "no such type", { name: "X" }]);
  });

  it("is true for a plain object carrying the brand (another copy of the package)", () => {
    const foreign = { [Symbol.for("durable-entities.error")]: true, code: "operation_failed", message: "boom" };
    expect(isEntityError(foreign)).toBe(true);
  });

  it("is false for everything else", () => {
    const others: unknown[] = [
      new Error("x"),
      { code: "bad_request", message: "x" },
      { [Symbol.for("durable-entities.error")]: "true" },
      { [Symbol("durable-entities.error")]: true },
      null,
      undefined,
      "EntityError",
      42,
    ];
    for (const value of others) expect(isEntityError(value)).toBe(false);
  });
});
