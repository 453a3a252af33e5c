import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClientFrame, ServerFrame, readAckFrame, readClientFrame } from "../../../protocol/index.js";

/** Characters at the edges of what keys accept: controls, lone and paired surrogates, the 1-, 2- and 3-byte UTF-8 limits. */
const edgeChars = fc.constantFrom("a", "/", " ", "\u0000", "\u0004", "\u001f", "\u007f", "\u0085", "\u009f", "\u00a0", "\u07ff", "\u0800", "\ufffd", "\ud800", "\udbff", "\udc00", "\ud83d\ude00");
const edgeText = (maxLength: number) => fc.array(edgeChars, { maxLength }).map((chars) => chars.join(""));
const entityIds = fc.oneof(
  fc.constantFrom("Counter/alice", "Stats/a/b", "_x/1", "A.b-c_9/ key", "Counter/", "/key", "9Counter/a", "Counter", "Coun ter/a", ""),
  fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })).map(([name, key]) => `${name}/${key}`),
  fc.string({ maxLength: 12 }),
  fc.tuple(fc.constantFrom("C", "x_"), fc.string({ minLength: 510, maxLength: 514 })).map(([name, key]) => `${name}/${key}`),
  fc.tuple(fc.constantFrom("C", "Counter"), edgeText(80)).map(([name, key]) => `${name}/${key}`),
);
const ids = fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, Number.NaN), fc.string({ maxLength: 3 }));
const ops = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("", "x".repeat(128), "x".repeat(129)), fc.integer());
const validFrames = fc.oneof(
  fc.record({
    type: fc.constantFrom("signal", "call", "get", "subscribe", "unsubscribe"),
    id: fc.nat(),
    entity: fc.constantFrom("Counter/alice", "Stats/a/b", "A.b-c_9/ key", "Emoji/\ud83d\ude00"),
    op: fc.string({ minLength: 1, maxLength: 8 }),
    input: fc.jsonValue(),
  }),
  fc.record({ type: fc.constant("subscribe"), id: fc.nat(), entity: fc.constant("Counter/a"), fromVersion: fc.nat() }),
  fc.record({ type: fc.constant("signal"), id: fc.nat(), entity: fc.constant("Counter/a"), op: fc.constant("add"), input: fc.jsonValue(), at: fc.double({ noNaN: true, noDefaultInfinity: true }) }, { requiredKeys: ["type", "id", "entity", "op", "at"] }),
  fc.record({ type: fc.constant("hello"), version: fc.integer() }),
  fc.record({ type: fc.constant("hello"), version: fc.constant(1), clientId: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ type: fc.constant("hello"), version: fc.constant(1), hub: fc.constantFrom("default", "OrdersV2", "abc", "a".repeat(45)) }),
);
const anyFrames = fc.record(
  {
    type: fc.constantFrom("signal", "call", "get", "subscribe", "unsubscribe", "hello", "nope"),
    id: ids,
    entity: fc.oneof(entityIds, fc.integer()),
    op: ops,
    input: fc.jsonValue(),
    fromVersion: fc.oneof(ids, fc.constant(null)),
    at: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(null, "5", Number.POSITIVE_INFINITY, -Number.MAX_VALUE, -0)),
    version: fc.oneof(ids, fc.constant(1), fc.double()),
    clientId: fc.oneof(fc.string({ maxLength: 4 }), edgeText(4), fc.constantFrom("x".repeat(200), "x".repeat(201)), fc.integer()),
    hub: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("hub1", "1hub", "ab", "a".repeat(45), "a".repeat(46), "Hub-2"), fc.integer()),
    extra: fc.string(),
  },
  { requiredKeys: [] },
);
const instanceIds = fc.oneof(fc.constantFrom("order-1", "x".repeat(256), "x".repeat(257), "", "a\ud800", "a\u0000", "ü/ä"), fc.string({ maxLength: 6 }), fc.integer());
const orchestrationFrames = fc.record(
  {
    type: fc.constantFrom("start", "raise", "terminate", "suspend", "resume", "rewind", "purge", "status", "list", "watch", "unwatch"),
    id: ids,
    name: fc.oneof(fc.constantFrom("HelloSequence", "9bad", "", "x".repeat(128), "x".repeat(129), "a b"), fc.integer()),
    input: fc.jsonValue(),
    instanceId: instanceIds,
    event: fc.oneof(fc.constantFrom("ApprovalEvent", "", "x".repeat(128), "x".repeat(129)), fc.integer()),
    data: fc.jsonValue(),
    reason: fc.jsonValue(),
    history: fc.oneof(fc.boolean(), fc.constant(1)),
    runtimeStatus: fc.oneof(fc.subarray(["Pending", "Running", "Completed", "Failed", "Terminated", "Suspended"]), fc.constant(["Done"]), fc.constant("Running")),
    createdFrom: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 2 })),
    createdTo: fc.oneof(fc.integer(), fc.constant(null)),
    instanceIdPrefix: fc.oneof(fc.string({ maxLength: 4 }), fc.constant("x".repeat(257))),
    pageSize: fc.oneof(fc.integer({ min: -1, max: 1001 }), fc.constant(2.5)),
    continuation: fc.oneof(fc.string({ maxLength: 4 }), fc.constant("x".repeat(2049))),
  },
  { requiredKeys: [] },
);
const validOrchestrationFrames = fc.oneof(
  fc.record({ type: fc.constant("start"), id: fc.nat(), name: fc.constantFrom("HelloSequence", "_x.y-z"), input: fc.jsonValue(), instanceId: fc.constantFrom("order-1", "ü") }, { requiredKeys: ["type", "id", "name"] }),
  fc.record({ type: fc.constantFrom("raise"), id: fc.nat(), instanceId: fc.constant("i-1"), event: fc.constant("ApprovalEvent"), data: fc.jsonValue() }, { requiredKeys: ["type", "id", "instanceId", "event"] }),
  fc.record({ type: fc.constantFrom("terminate", "suspend", "resume", "rewind", "purge", "watch", "unwatch", "status"), id: fc.nat(), instanceId: fc.constant("i-1") }),
  fc.record({ type: fc.constantFrom("rewind", "terminate"), id: fc.nat(), instanceId: fc.constantFrom("i-1", "ü/ä"), reason: fc.jsonValue() }, { requiredKeys: ["type", "id", "instanceId"] }),
  fc.record({ type: fc.constant("list"), id: fc.nat(), runtimeStatus: fc.subarray(["Running", "Completed"]), pageSize: fc.integer({ min: 1, max: 1000 }) }, { requiredKeys: ["type", "id"] }),
);
const failuresFrames = fc.record(
  {
    type: fc.constantFrom("failures", "failures", "failure"),
    id: ids,
    entityType: fc.oneof(fc.constantFrom("Counter", "_x.y-z", "9bad", "", "Counter/alice", "x".repeat(128), "x".repeat(129), "a b"), fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)),
    limit: fc.oneof(fc.integer({ min: -1, max: 1001 }), fc.constantFrom(2.5, Number.NaN, "10", null)),
    before: fc.oneof(ids, fc.constant(null)),
    extra: fc.string(),
  },
  { requiredKeys: [] },
);
const validFailuresFrames = fc.record(
  { type: fc.constant("failures"), id: fc.nat(), entityType: fc.constantFrom("Counter", "_x.y-z", "x".repeat(128)), limit: fc.integer({ min: 1, max: 1000 }), before: fc.nat() },
  { requiredKeys: ["type", "id"] },
);
const flags = fc.oneof(fc.boolean(), fc.constantFrom(0, 1, "true", null));
const entityQueryFrames = fc.record(
  {
    type: fc.constantFrom("listEntities", "deleteEntity", "cleanEntities", "listEntity"),
    id: ids,
    entity: fc.oneof(entityIds, fc.integer()),
    entityType: fc.oneof(fc.constantFrom("Counter", "_x.y-z", "9bad", "", "Counter/alice", "x".repeat(128), "x".repeat(129), "a b"), fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)),
    ignoreCase: flags,
    prefix: fc.oneof(fc.string({ maxLength: 4 }), edgeText(6), fc.constantFrom("x".repeat(512), "x".repeat(513), "\ud83d\ude00".repeat(256)), fc.integer(), fc.constant(null)),
    includeState: flags,
    includeDeleted: flags,
    modifiedFrom: fc.oneof(fc.integer(), fc.double(), fc.constantFrom("1", null)),
    modifiedTo: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)),
    pageSize: fc.oneof(fc.integer({ min: -1, max: 1001 }), fc.constantFrom(2.5, Number.NaN, "10", null)),
    continuation: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom("x".repeat(2048), "x".repeat(2049)), fc.integer()),
    count: flags,
    removeEmpty: flags,
    releaseOrphanedLocks: flags,
    extra: fc.string(),
  },
  { requiredKeys: [] },
);
const validEntityQueryFrames = fc.oneof(
  fc.record(
    {
      type: fc.constant("listEntities"),
      id: fc.nat(),
      entityType: fc.constantFrom("Counter", "_x.y-z", "x".repeat(128)),
      ignoreCase: fc.boolean(),
      prefix: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("", "x".repeat(512), "ü/\ud83d\ude00")),
      includeState: fc.boolean(),
      includeDeleted: fc.boolean(),
      modifiedFrom: fc.integer(),
      modifiedTo: fc.double({ noNaN: true, noDefaultInfinity: true }),
      pageSize: fc.integer({ min: 1, max: 1000 }),
      continuation: fc.string({ maxLength: 20 }),
      count: fc.boolean(),
    },
    { requiredKeys: ["type", "id", "entityType"] },
  ),
  fc.record({ type: fc.constant("deleteEntity"), id: fc.nat(), entity: fc.constantFrom("Counter/alice", "Emoji/\ud83d\ude00", "Files/a/b") }),
  fc.record({ type: fc.constant("cleanEntities"), id: fc.nat(), entityType: fc.constantFrom("Counter", "_x"), removeEmpty: fc.boolean(), releaseOrphanedLocks: fc.boolean() }, { requiredKeys: ["type", "id"] }),
);
const frames = fc.oneof(validFrames, anyFrames, orchestrationFrames, validOrchestrationFrames, failuresFrames, validFailuresFrames, entityQueryFrames, validEntityQueryFrames);

describe("the hand-written frame reader", () => {
  it("accepts exactly what the zod schema accepts, with the same result", () => {
    let accepted = 0;
    fc.assert(
      fc.property(frames, (frame) => {
        const fast = readClientFrame(frame);
        const slow = ClientFrame.safeParse(frame);
        expect(fast !== undefined).toBe(slow.success);
        if (fast === undefined) return;
        accepted++;
        expect(fast).toEqual(slow.data);
      }),
      { numRuns: 20_000 },
    );
    expect(accepted).toBeGreaterThan(1000); // the property says little unless the reader accepts often
  });
});

describe("the hand-written reader of failures frames", () => {
  it("accepts exactly what the zod schema accepts, with the same result, and accepts often", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(failuresFrames, validFailuresFrames), (frame) => {
        const fast = readClientFrame(frame);
        const slow = ClientFrame.safeParse(frame);
        expect(fast !== undefined).toBe(slow.success);
        if (fast === undefined) return;
        accepted++;
        expect(fast).toEqual(slow.data);
      }),
      { numRuns: 10_000 },
    );
    expect(accepted).toBeGreaterThan(3000);
  });
});

describe("the hand-written reader of entity query frames", () => {
  it("accepts exactly what the zod schemas accept, with the same result, and accepts often", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(entityQueryFrames, validEntityQueryFrames), (frame) => {
        const fast = readClientFrame(frame);
        const slow = ClientFrame.safeParse(frame);
        expect(fast !== undefined).toBe(slow.success);
        if (fast === undefined) return;
        accepted++;
        expect(fast).toEqual(slow.data);
      }),
      { numRuns: 10_000 },
    );
    expect(accepted).toBeGreaterThan(3000);
  });
});

describe("the hand-written reader of a scheduled signal's at", () => {
  it("accepts exactly the finite numbers zod accepts, on signals only", () => {
    const cases: unknown[] = [0, -0, 1.5, -1, Date.now(), Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null, "5", undefined];
    for (const at of cases) {
      for (const type of ["signal", "call"]) {
        const frame = { type, id: 1, entity: "Counter/a", op: "add", at };
        const fast = readClientFrame(frame);
        const slow = ClientFrame.safeParse(frame);
        expect(fast !== undefined, `${type} at ${String(at)}`).toBe(slow.success);
        if (fast !== undefined) expect(fast).toEqual(slow.data);
      }
    }
  });
});

describe("the ack fast path", () => {
  it("accepts only what the zod schema accepts, with the same result", () => {
    let accepted = 0;
    const acks = fc.oneof(
      fc.record({ type: fc.constant("ack"), ids: fc.array(fc.nat()) }),
      fc.record({ type: fc.constantFrom("ack", "result"), ids: fc.oneof(fc.array(ids), ids), id: ids }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(acks, (frame) => {
        const fast = readAckFrame(frame);
        const slow = ServerFrame.safeParse(frame);
        if (fast === undefined) return;
        accepted++;
        expect(slow.success).toBe(true);
        expect(fast).toEqual(slow.data);
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});
