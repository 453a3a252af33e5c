import { afterEach, describe, expect, it } from "vitest";
import { defineEntity } from "../../../src/runtime/index.js";
import { Relay } from "../support/entities.js";
import { RuntimeHarness, call, nextChange, readState } from "../support/runtime-harness.js";

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

interface Received {
  n: unknown;
  from: string;
  /** The sender's version on disk when the signal arrived. */
  senderVersion: number;
}

const Receiver = defineEntity("Receiver", {
  initialState: (): Received[] => [],
  operations: {
    receive: (ctx, input: { from: string; n: unknown }) => {
      ctx.state.push({ n: input.n, from: input.from, senderVersion: harness.store.readEntity(input.from)?.version ?? 0 });
    },
  },
});

const Sender = defineEntity("Sender", {
  initialState: () => ({ sent: 0 }),
  operations: {
    send: (ctx, input: { to: string; n: unknown[]; fail?: boolean; op?: string }) => {
      for (const n of input.n) {
        ctx.state.sent++;
        ctx.signalEntity(input.to, input.op ?? "receive", { from: ctx.entityId, n });
      }
      if (input.fail) throw new Error("sender failed after signalling");
      return ctx.state.sent;
    },
    sendMutated: (ctx, to: string) => {
      const payload = { from: ctx.entityId, n: ["original"] };
      ctx.signalEntity(to, "receive", payload);
      payload.n.push("mutated after send");
      ctx.state.sent++;
    },
    sendFunction: (ctx, to: string) => {
      ctx.state.sent++;
      ctx.signalEntity(to, "receive", { from: ctx.entityId, n: () => 1 });
    },
  },
});

describe("ctx.signalEntity", () => {
  it("delivers to the target after the sender's change is on disk, in order", async () => {
    harness = await RuntimeHarness.open([Sender, Receiver]);
    const { runtime } = harness;
    const arrived = nextChange(runtime, "Receiver/r", (c) => (c.state as Received[]).length === 3);
    expect(await call(runtime, "Sender/s", "send", { to: "Receiver/r", n: [1, 2, 3] })).toEqual({ kind: "result", value: 3 });
    await arrived;
    expect((await readState(runtime, "Receiver/r")).state).toEqual([
      { n: 1, from: "Sender/s", senderVersion: 1 },
      { n: 2, from: "Sender/s", senderVersion: 1 },
      { n: 3, from: "Sender/s", senderVersion: 1 },
    ]);
    expect(harness.mailbox()).toEqual([]);
  });

  it("drops the signals of an operation that throws, and keeps those of its neighbours", async () => {
    harness = await RuntimeHarness.open([Sender, Receiver]);
    const { runtime } = harness;
    const arrived = nextChange(runtime, "Receiver/r", (c) => (c.state as Received[]).some((r) => r.n === "last"));
    const outcomes = await Promise.all([
      call(runtime, "Sender/s", "send", { to: "Receiver/r", n: ["kept"] }),
      call(runtime, "Sender/s", "send", { to: "Receiver/r", n: ["dropped-1", "dropped-2"], fail: true }),
      call(runtime, "Sender/s", "send", { to: "Receiver/r", n: ["kept-too"] }),
    ]);
    expect(outcomes[1]).toMatchObject({ kind: "error", code: "operation_failed" });
    await call(runtime, "Sender/s", "send", { to: "Receiver/r", n: ["last"] });
    await arrived;
    expect(((await readState(runtime, "Receiver/r")).state as Received[]).map((r) => r.n)).toEqual(["kept", "kept-too", "last"]);
    expect(await readState(runtime, "Sender/s")).toEqual({ state: { sent: 3 }, version: 2 });
    expect(harness.mailbox()).toEqual([]);
  });

  it("fails the sending operation for an unknown entity type, an unknown operation or a bad id", async () => {
    harness = await RuntimeHarness.open([Sender, Receiver]);
    const { runtime } = harness;
    const cases: Array<[{ to: string; n: unknown[]; op?: string }, string]> = [
      [{ to: "Nope/x", n: [1] }, 'no entity type "Nope"'],
      [{ to: "Receiver/x", n: [1], op: "nope" }, 'has no operation "nope"'],
      [{ to: "no-slash", n: [1] }, 'entity id "no-slash" must look like Name/key'],
    ];
    for (const [input, message] of cases) {
      const outcome = await call(runtime, "Sender/u", "send", input);
      expect(outcome).toMatchObject({ kind: "error", code: "operation_failed" });
      expect(outcome.kind === "error" && outcome.message).toContain(message);
    }
    expect(await readState(runtime, "Sender/u")).toEqual({ state: null, version: 0 });
    expect(harness.mailbox()).toEqual([]);
  });

  it("copies the input when the signal is sent, and fails on input JSON cannot hold", async () => {
    harness = await RuntimeHarness.open([Sender, Receiver]);
    const { runtime } = harness;
    const arrived = nextChange(runtime, "Receiver/m");
    const failed = await call(runtime, "Sender/m", "sendFunction", "Receiver/m");
    expect(failed).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(failed.kind === "error" && failed.message).toContain("is a function");
    await call(runtime, "Sender/m", "sendMutated", "Receiver/m");
    await arrived;
    expect((await readState(runtime, "Receiver/m")).state).toEqual([{ n: ["original"], from: "Sender/m", senderVersion: 1 }]);
  });

  it("relays through a chain of entities, each hop after the previous commit", async () => {
    harness = await RuntimeHarness.open([Relay]);
    const { runtime } = harness;
    const arrived = nextChange(runtime, "Relay/c");
    await call(runtime, "Relay/a", "relay", ["Relay/b", "Relay/c"]);
    await arrived;
    expect((await readState(runtime, "Relay/a")).state).toEqual(["Relay/b>Relay/c"]);
    expect((await readState(runtime, "Relay/b")).state).toEqual(["Relay/c"]);
    expect((await readState(runtime, "Relay/c")).state).toEqual([""]);
    expect(harness.mailbox()).toEqual([]);
  });
});
