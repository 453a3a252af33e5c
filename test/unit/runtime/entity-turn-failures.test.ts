import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEntity, EntityRegistry, SignalMarks } from "../../../src/runtime/index.js";
import { runTurn } from "../../../src/runtime/entity-turn.js";
import { LoadedEntity } from "../../../src/runtime/loaded-entity.js";
import type { OperationRequest } from "../../../src/runtime/index.js";

const Fragile = defineEntity("Fragile", {
  initialState: () => 0,
  operations: {
    add: (ctx, n: number) => (ctx.state += n),
    explode: (ctx) => {
      ctx.state += 100;
      throw new Error("exploded");
    },
    throwString: () => {
      throw "plain";
    },
    strict: { input: z.number(), run: (ctx, n) => (ctx.state += n) },
  },
});

function entity(): LoadedEntity {
  const marks = new SignalMarks({ mark: () => undefined, failure: () => undefined }, 60_000);
  return new LoadedEntity("Fragile/a", Fragile, undefined, marks);
}

describe("a turn's failures", () => {
  it("lists each failed operation once, with what it threw; the others and reads are not failures", () => {
    const registry = new EntityRegistry([Fragile]);
    const loaded = entity();
    const message = { partition: 3, seq: 9 };
    const requests: OperationRequest[] = [
      { kind: "call", entityId: "Fragile/a", op: "add", input: 1 },
      { kind: "signal", entityId: "Fragile/a", op: "explode", message, source: "Sender/s" },
      { kind: "signal", entityId: "Fragile/a", op: "strict", input: "seven", sender: { clientId: "c", seq: 1 } },
      { kind: "call", entityId: "Fragile/a", op: "throwString" },
      { kind: "read", entityId: "Fragile/a", op: "" },
      { kind: "signal", entityId: "Fragile/a", op: "strict", input: "seven", sender: { clientId: "c", seq: 1 } }, // a resend: answered from its mark
      { kind: "call", entityId: "Fragile/a", op: "nope" },
    ];
    const turn = runTurn(loaded, requests, registry, 1_000);
    expect(turn.failures.map(({ request, code, message: text }) => [request, code, text])).toEqual([
      [requests[1], "operation_failed", "Fragile/a explode: exploded"],
      [requests[2], "bad_request", expect.stringMatching(/^Fragile\/a strict: input rejected by the schema/)],
      [requests[3], "operation_failed", "Fragile/a throwString: plain"],
      [requests[6], "unknown_operation", expect.stringContaining('has no operation "nope"')],
    ]);
    expect(turn.failures[0]!.thrown).toBeInstanceOf(Error);
    expect((turn.failures[0]!.thrown as Error).stack).toContain("entity-turn-failures.test.ts");
    expect(turn.failures[1]).not.toHaveProperty("thrown");
    expect(turn.failures[2]!.thrown).toBe("plain");
    // The failed ones rolled back; the resend is answered as the first time, without running again.
    expect(loaded.state).toBe(1);
    expect(turn.outcomes[5]![1]).toEqual(turn.outcomes[2]![1]);
    expect(turn.consumed).toEqual([message]);
  });
});
