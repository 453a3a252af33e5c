import { afterEach, describe, expect, it, vi } from "vitest";
import { serverGauges } from "../../../src/server/server-gauges.js";
import type { TaskHub } from "../../../src/server/task-hub.js";
import type { TaskHubs } from "../../../src/server/task-hubs.js";
import type { Transport } from "../../../src/server/transport.js";

/** One hub whose mailbox count takes `costMs` of (fake) time to read, as walking its cached entities does. */
function hubCounting(costMs: number) {
  let reads = 0;
  let queued = 3;
  const runtime = {
    get queuedOperations() {
      reads++;
      vi.advanceTimersByTime(costMs);
      return queued;
    },
  };
  const hub = { runtime } as unknown as TaskHub;
  const hubs = { list: () => [hub] } as unknown as TaskHubs;
  const gauges = serverGauges(hubs, { name: "ws", connectionCount: 0 } as unknown as Transport);
  return { gauges, reads: () => reads, queue: (n: number) => (queued = n) };
}

describe("serverGauges' mailbox depth", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reuses a count that took long (100,000 cached entities walked) for 100 times what it took", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    const { gauges, reads, queue } = hubCounting(10);
    expect(gauges.mailboxDepth()).toBe(3);
    queue(5);
    vi.advanceTimersByTime(500); // the health sampler's next reading, or a scrape
    expect(gauges.mailboxDepth()).toBe(3);
    expect(reads()).toBe(1);
    vi.advanceTimersByTime(500); // 1 s (100 × 10 ms) since the count
    expect(gauges.mailboxDepth()).toBe(5);
    expect(reads()).toBe(2);
  });

  it("counts afresh at every reading when counting is quick", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    const { gauges, reads, queue } = hubCounting(0);
    expect(gauges.mailboxDepth()).toBe(3);
    queue(4);
    expect(gauges.mailboxDepth()).toBe(4);
    expect(reads()).toBe(2);
  });
});
