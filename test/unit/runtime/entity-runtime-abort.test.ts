import { afterEach, describe, expect, it } from "vitest";
import { EntityRuntime, type Outcome } from "../../../src/runtime/index.js";
import { createLogger } from "../../../src/log.js";
import { Counter } from "../support/entities.js";
import { TempStores } from "../support/temp-dir.js";

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

describe("abort (a fatal error in the host)", () => {
  it("lets the commit in flight finish and answer, drops queued and new work unanswered (a client resends it), and runs no further tick", async () => {
    const dir = stores.newDir();
    const store = await stores.openStore(dir);
    const runtime = new EntityRuntime({ store, entities: [Counter], log: createLogger("silent") });
    runtime.start();
    const answered: string[] = [];
    const signal = (entityId: string) =>
      new Promise<Outcome>((resolve) =>
        runtime.submit({ kind: "signal", entityId, op: "add", input: 1, requestId: 1, replyTo: { deliver: (_id, outcome) => (answered.push(entityId), resolve(outcome)) } }),
      );

    const inFlight = signal("Counter/a");
    await new Promise((resolve) => setImmediate(resolve)); // its tick has run: its commit is under way
    void signal("Counter/b"); // its tick is scheduled, not run
    const aborted = runtime.abort();
    void signal("Counter/c");
    await aborted;

    expect(await inFlight).toEqual({ kind: "ack" });
    await new Promise((resolve) => setTimeout(resolve, 20)); // a tick scheduled before abort has had its turn
    expect(answered).toEqual(["Counter/a"]);
    await stores.closeStore(store);

    const reopened = await stores.openStore(dir);
    expect(reopened.readEntity("Counter/a")?.state).toBe(1);
    expect(reopened.readEntity("Counter/b")).toBeUndefined();
    expect(reopened.readEntity("Counter/c")).toBeUndefined();
  });
});
