import { describe, expect, it } from "vitest";
import type { SubscribeFrame, UnsubscribeFrame } from "../../../protocol/client-frames.js";
import { EntityError, ErrorCode } from "../../../protocol/entity-error.js";
import type { PatchFrame } from "../../../protocol/server-frames.js";
import { LiveSubscriptions, type LiveStateInfo } from "../../../clients/subscription.js";

function setup(connected = true) {
  const sent: (SubscribeFrame | UnsubscribeFrame)[] = [];
  const reported: EntityError[] = [];
  let id = 1;
  const port = { connected, nextId: () => id++, isConnected: () => port.connected, send: (f: SubscribeFrame | UnsubscribeFrame) => sent.push(f), report: (e: EntityError) => reported.push(e) };
  return { live: new LiveSubscriptions(port), sent, reported, port };
}

const entity = "Stats/demo";
const patch = (version: number, value: number): PatchFrame => ({ type: "patch", entity, version, patch: [{ op: "replace", path: "/n", value }] });

describe("LiveSubscriptions", () => {
  it("shares one server subscription between listeners and unsubscribes after the last close", async () => {
    const { live, sent } = setup();
    const seenA: unknown[] = [];
    const seenB: unknown[] = [];
    const a = live.subscribe(entity, (state) => seenA.push(state));
    const b = live.subscribe(entity, (state) => seenB.push(state));
    expect(sent).toEqual([{ type: "subscribe", id: 1, entity }]);
    live.receive({ type: "snapshot", id: 1, entity, state: { n: 1 }, version: 1 });
    await expect(a.ready).resolves.toEqual({ state: { n: 1 }, version: 1 });
    await expect(b.ready).resolves.toEqual({ state: { n: 1 }, version: 1 });
    live.receive(patch(2, 2));
    expect(seenA).toEqual([{ n: 1 }, { n: 2 }]);
    expect(seenB).toEqual([{ n: 1 }, { n: 2 }]);
    expect([a.state, a.version]).toEqual([{ n: 2 }, 2]);
    await a.close();
    expect(sent).toHaveLength(1);
    await b.close();
    expect(sent[1]).toEqual({ type: "unsubscribe", id: 2, entity });
    live.receive(patch(3, 3));
    expect(seenB).toHaveLength(2);
  });

  it("keeps two subscriptions of the same function independent", async () => {
    const { live, sent } = setup();
    const seen: unknown[] = [];
    const listener = (state: unknown) => seen.push(state);
    const a = live.subscribe(entity, listener);
    live.subscribe(entity, listener);
    live.receive({ type: "snapshot", id: 1, entity, state: { n: 1 }, version: 1 });
    await a.close();
    live.receive(patch(2, 2));
    expect(seen).toEqual([{ n: 1 }, { n: 1 }, { n: 2 }]);
    expect(sent).toHaveLength(1);
  });

  it("gives a late listener the current state once", async () => {
    const { live } = setup();
    live.subscribe(entity, () => {});
    live.receive({ type: "snapshot", id: 1, entity, state: { n: 7 }, version: 3 });
    const seen: [unknown, LiveStateInfo][] = [];
    live.subscribe(entity, (state, info) => seen.push([state, info]));
    await Promise.resolve();
    expect(seen).toEqual([[{ n: 7 }, { version: 3, entity, kind: "snapshot" }]]);
  });

  it("asks for a fresh snapshot on a gap and ignores patches until it comes", () => {
    const { live, sent } = setup();
    const seen: unknown[] = [];
    live.subscribe(entity, (state) => seen.push(state));
    live.receive({ type: "snapshot", id: 1, entity, state: { n: 1 }, version: 1 });
    live.receive(patch(3, 3));
    expect(sent[1]).toEqual({ type: "subscribe", id: 2, entity });
    live.receive(patch(4, 4));
    live.receive({ type: "snapshot", entity, state: { n: 4 }, version: 4 });
    live.receive(patch(5, 5));
    expect(seen).toEqual([{ n: 1 }, { n: 4 }, { n: 5 }]);
  });

  it("subscribes again from the last version after a reconnect", () => {
    const { live, sent, port } = setup(false);
    live.subscribe(entity, () => {});
    expect(sent).toEqual([]);
    port.connected = true;
    live.resubscribeAll();
    expect(sent).toEqual([{ type: "subscribe", id: 1, entity }]);
    live.receive({ type: "snapshot", id: 1, entity, state: { n: 1 }, version: 9 });
    live.resubscribeAll();
    expect(sent[1]).toEqual({ type: "subscribe", id: 2, entity, fromVersion: 9 });
  });

  it("rejects ready and drops the subscription when the server refuses it", async () => {
    const { live } = setup();
    const sub = live.subscribe("Nope/x", () => {});
    expect(live.fail(1, new EntityError(ErrorCode.unknown_entity, "no entity type Nope"))).toBe(true);
    await expect(sub.ready).rejects.toMatchObject({ code: ErrorCode.unknown_entity });
    expect(live.fail(1, new EntityError(ErrorCode.unknown_entity, "again"))).toBe(false);
  });

  it("reports a listener that throws and keeps notifying the others", () => {
    const { live, reported } = setup();
    const seen: unknown[] = [];
    live.subscribe(entity, () => {
      throw new Error("boom");
    });
    live.subscribe(entity, (state) => seen.push(state));
    live.receive({ type: "snapshot", id: 1, entity, state: null, version: 0 });
    expect(seen).toEqual([null]);
    expect(reported.map((e) => e.code)).toEqual([ErrorCode.internal]);
  });
});
