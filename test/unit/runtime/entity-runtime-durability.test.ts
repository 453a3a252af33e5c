import { afterEach, describe, expect, it } from "vitest";
import { Counter, Log, Relay } from "../support/entities.js";
import { RuntimeHarness, call, readState, signal, waitForState } from "../support/runtime-harness.js";

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("durability across a restart", () => {
  it("keeps every acknowledged change", async () => {
    harness = await RuntimeHarness.open([Counter, Log]);
    const { runtime } = harness;
    const acks = [];
    for (let i = 0; i < 200; i++) {
      acks.push(signal(runtime, `Counter/${i % 7}`, "add", i));
      acks.push(signal(runtime, "Log/l", "append", { i, tag: `t${i}` }));
    }
    expect(await Promise.all(acks)).toEqual(Array(400).fill({ kind: "ack" }));
    await Promise.all([signal(runtime, "Counter/0", "add", 1000), signal(runtime, "Log/l", "append", "last")]);
    await harness.restart();
    for (let k = 0; k < 7; k++) {
      let sum = 0;
      for (let i = k; i < 200; i += 7) sum += i;
      if (k === 0) sum += 1000;
      expect(await readState(harness.runtime, `Counter/${k}`)).toEqual({ state: sum, version: k === 0 ? 2 : 1 });
    }
    const items = [...Array.from({ length: 200 }, (_, i) => ({ i, tag: `t${i}` })), "last"];
    expect(await readState(harness.runtime, "Log/l")).toEqual({ state: { items }, version: 2 });
  });

  it("close() waits until everything queued is durable, even what was not answered yet", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const pending = Array.from({ length: 100 }, (_, i) => signal(harness.runtime, "Counter/q", "add", i));
    const closed = harness.restart();
    expect(await Promise.all(pending)).toEqual(Array(100).fill({ kind: "ack" }));
    await closed;
    expect(await readState(harness.runtime, "Counter/q")).toEqual({ state: 4950, version: 1 });
  });

  it("after close(), new work is answered with shutting_down", async () => {
    harness = await RuntimeHarness.open([Counter]);
    await harness.runtime.close();
    expect(await call(harness.runtime, "Counter/late", "add", 1)).toEqual({ kind: "error", code: "shutting_down", message: "the server is shutting down" });
  });

  it("keeps a signal between entities that was in flight at close, and delivers it after the restart", async () => {
    harness = await RuntimeHarness.open([Relay]);
    const first = call(harness.runtime, "Relay/a", "relay", ["Relay/b", "Relay/c", "Relay/d"]);
    await harness.restart();
    expect(await first).toEqual({ kind: "result", value: undefined });
    await waitForState(harness.runtime, "Relay/d", (state) => state !== null);
    expect((await readState(harness.runtime, "Relay/a")).state).toEqual(["Relay/b>Relay/c>Relay/d"]);
    expect((await readState(harness.runtime, "Relay/b")).state).toEqual(["Relay/c>Relay/d"]);
    expect((await readState(harness.runtime, "Relay/c")).state).toEqual(["Relay/d"]);
    expect(await readState(harness.runtime, "Relay/d")).toEqual({ state: [""], version: 1 });
    expect(harness.mailbox()).toEqual([]);
  });
});
