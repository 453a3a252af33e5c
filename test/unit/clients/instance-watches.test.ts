import { describe, expect, it } from "vitest";
import { EntityError, ErrorCode } from "../../../protocol/entity-error.js";
import type { UnwatchFrame, WatchFrame } from "../../../protocol/orchestration-frames.js";
import { InstanceWatches } from "../../../clients/instance-watches.js";
import { statusOf } from "./fake-server.js";

function setup(connected = true) {
  const sent: (WatchFrame | UnwatchFrame)[] = [];
  const reported: EntityError[] = [];
  let id = 1;
  const port = { connected, nextId: () => id++, isConnected: () => port.connected, send: (f: WatchFrame | UnwatchFrame) => sent.push(f), report: (e: EntityError) => reported.push(e) };
  return { watches: new InstanceWatches(port), sent, reported, port };
}

describe("InstanceWatches", () => {
  it("sends nothing while disconnected, then watches every instance on rewatchAll", () => {
    const { watches, sent, port } = setup(false);
    watches.watch("a", { status: () => {} });
    watches.watch("b", { status: () => {} });
    expect(sent).toEqual([]);
    port.connected = true;
    watches.rewatchAll();
    expect(sent).toEqual([
      { type: "watch", id: 1, instanceId: "a" },
      { type: "watch", id: 2, instanceId: "b" },
    ]);
  });

  it("reports a listener that throws and still tells the others", () => {
    const { watches, reported } = setup();
    const seen: unknown[] = [];
    watches.watch("a", {
      status: () => {
        throw new Error("listener bug");
      },
    });
    watches.watch("a", { status: (status) => seen.push(status?.runtimeStatus) });
    watches.receive({ type: "instance", id: 1, instanceId: "a", status: statusOf("a", "Running") });
    expect(seen).toEqual(["Running"]);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ code: "internal", message: /status listener for instance a threw: Error: listener bug/ });
  });

  it("on a long disconnect fails the ready of watches without a status, and ends the listeners that ask to, keeping the rest", async () => {
    const { watches, sent, port } = setup();
    const waiting = watches.watch("a", { status: () => {} });
    const failed: EntityError[] = [];
    const live = watches.watch("b", { status: () => {} });
    watches.watch("b", { status: () => {}, failOnDisconnect: true, failed: (error) => failed.push(error) });
    watches.receive({ type: "instance", id: 2, instanceId: "b", status: statusOf("b", "Running") });
    port.connected = false;
    const error = new EntityError(ErrorCode.disconnected, "no connection");
    watches.failPending(error);
    await expect(waiting.ready).rejects.toBe(error);
    await expect(live.ready).resolves.toMatchObject({ runtimeStatus: "Running" });
    expect(failed).toEqual([error]);
    port.connected = true;
    sent.length = 0;
    watches.rewatchAll();
    expect(sent.map((frame) => frame.instanceId)).toEqual(["a", "b"]);
  });

  it("ignores a status for an instance no longer watched, and a failure for an id that is not a watch", () => {
    const { watches, sent } = setup();
    const watch = watches.watch("a", { status: () => {} });
    void watch.close();
    expect(sent.at(-1)).toEqual({ type: "unwatch", id: 2, instanceId: "a" });
    watches.receive({ type: "instance", instanceId: "a", status: null });
    expect(watch.status).toBeUndefined();
    expect(watches.fail(99, new EntityError(ErrorCode.internal, "x"))).toBe(false);
  });
});
