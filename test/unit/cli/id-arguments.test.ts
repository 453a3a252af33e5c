import { describe, expect, it } from "vitest";
import { checkIdArguments, entityIdProblem } from "../../../src/cli/id-arguments.js";
import { parseArgs, UsageError } from "../../../src/cli/parse-args.js";

const check = (...argv: string[]) => () => checkIdArguments(argv[0]!, parseArgs(argv));

describe("checkIdArguments", () => {
  it("accepts well-formed entity and instance ids", () => {
    expect(check("get", "Counter/alice")).not.toThrow();
    expect(check("signal", "Stats/a/b", "record", "1")).not.toThrow();
    expect(check("status", "abc123")).not.toThrow();
    expect(check("start", "HelloSequence", "--id", "mine")).not.toThrow();
    expect(check("get")).not.toThrow(); // the usage message is the command's
  });

  it("refuses a malformed entity id with a usage error that says what an id looks like", () => {
    for (const id of ["Counter", "Counter/", "/alice", "9lives/x", "Counter/a\u0001b", `Counter/${"k".repeat(513)}`]) {
      expect(check("get", id), id).toThrow(UsageError);
      expect(check("call", id, "get"), id).toThrow(/is not an entity id: .*; an entity id is the entity's type name, a slash and a key, like Counter\/alice/);
    }
  });

  it("says which part is wrong", () => {
    expect(entityIdProblem("Counter")).toMatch(/no key \(no slash\)/);
    expect(entityIdProblem("Counter/")).toMatch(/no key after the slash/);
    expect(entityIdProblem("/alice")).toMatch(/no type name/);
    expect(entityIdProblem("9lives/x")).toMatch(/the type name "9lives" must start with a letter/);
    expect(entityIdProblem("Counter/a\u0000")).toMatch(/well-formed Unicode without control characters/);
    expect(entityIdProblem("Counter/alice")).toBeUndefined();
  });

  it("refuses malformed instance ids", () => {
    expect(check("status", "")).toThrow(/"" is not an instance id/);
    expect(check("wait", "a\u0007b")).toThrow(/is not an instance id/);
    expect(check("start", "HelloSequence", "--id", "x".repeat(300))).toThrow(/is not an instance id/);
  });
});

describe("parseArgs short flags", () => {
  it("reads -h and -v as --help and --version, except after --", () => {
    expect(parseArgs(["-h"]).options).toEqual({ help: true });
    expect(parseArgs(["serve", "-v"]).options).toEqual({ version: true });
    expect(parseArgs(["call", "Counter/a", "add", "-5"]).positionals).toEqual(["call", "Counter/a", "add", "-5"]);
    expect(parseArgs(["raise", "id", "--", "-h"]).positionals).toEqual(["raise", "id", "-h"]);
  });
});
