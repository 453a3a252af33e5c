import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClientFrame, ServerFrame, readAckFrame, readHotClientFrame } from "../../../protocol/index.js";

const entityIds = fc.oneof(
  fc.constantFrom("Counter/alice", "Stats/a/b", "_x/1", "A.b-c_9/ key", "Counter/", "/key", "9Counter/a", "Counter", "Coun ter/a", ""),
  fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })).map(([name, key]) => `${name}/${key}`),
  fc.string({ maxLength: 12 }),
  fc.tuple(fc.constantFrom("C", "x_"), fc.string({ minLength: 510, maxLength: 514 })).map(([name, key]) => `${name}/${key}`),
);
const ids = fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, Number.NaN), fc.string({ maxLength: 3 }));
const ops = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("", "x".repeat(128), "x".repeat(129)), fc.integer());
const validFrames = fc.record({
  type: fc.constantFrom("signal", "call", "get"),
  id: fc.nat(),
  entity: fc.constantFrom("Counter/alice", "Stats/a/b", "A.b-c_9/ key"),
  op: fc.string({ minLength: 1, maxLength: 8 }),
  input: fc.jsonValue(),
});
const anyFrames = fc.record(
  {
    type: fc.constantFrom("signal", "call", "get", "subscribe", "hello", "nope"),
    id: ids,
    entity: fc.oneof(entityIds, fc.integer()),
    op: ops,
    input: fc.jsonValue(),
    extra: fc.string(),
  },
  { requiredKeys: [] },
);
const frames = fc.oneof(validFrames, anyFrames);

describe("the hot-frame fast path", () => {
  it("accepts only what the zod schema accepts, with the same result, and accepts every valid signal, call and get", () => {
    let accepted = 0;
    fc.assert(
      fc.property(frames, (frame) => {
        const fast = readHotClientFrame(frame);
        if (fast !== undefined) accepted++;
        const slow = ClientFrame.safeParse(frame);
        if (fast !== undefined) {
          expect(slow.success).toBe(true);
          expect(fast).toEqual(slow.data);
        } else if (slow.success) {
          expect(["hello", "subscribe"]).toContain(slow.data.type);
        }
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(100); // the property says little unless the fast path accepts often
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
