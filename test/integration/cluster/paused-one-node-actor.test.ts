import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../../clients/index.js";
import type { CounterActor } from "../../../src/demo/app.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { TestCluster } from "./cluster-nodes.js";

const EVENTS = 4_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * An eternal orchestration that continues as new once per event keeps the events it has not run yet in
 * its record's inbox (durable, acknowledged), and works through them a bounded number of executions per
 * turn, each turn scheduling the next. A node that loses its partitions (here: paused past its lease)
 * and takes them back drops every instance from memory: the instance must run again from its stored
 * inbox, though no new request comes for it.
 */
describe("a one-node cluster paused past its lease while an eternal orchestration works through its inbox", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("CounterActor runs the events it already took to the end once the node has its partitions again", { timeout: 200_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const cluster = new TestCluster(nats.urls, 2_000);
    cleanups.push(() => cluster.stop());
    const node = await cluster.start("a");
    cleanups.push(() => void (node.child.exitCode === null && node.child.signalCode === null && node.child.kill("SIGCONT")));
    await cluster.untilServedBy(["a"], 16);
    const client = await connect(node.url, { clientId: "paused-actor" });
    cleanups.push(() => client.close());

    const id = await client.start<typeof CounterActor>("CounterActor", 0);
    await Promise.all(Array.from({ length: EVENTS }, (_, i) => client.raiseEvent(id, "operation", i % 4 === 3 ? "decr" : "incr")));
    await client.raiseEvent(id, "operation", "end");
    // Every event is acknowledged (the ones not run yet wait in the record's inbox); the instance works through them.
    const completion = client.waitForCompletion<typeof CounterActor>(id, { timeoutMs: 60_000 });
    await delay(300);
    node.child.kill("SIGSTOP");
    await delay(4_000); // past the 2 s lease: resumed, the node finds its partitions lost, and takes them back
    node.child.kill("SIGCONT");

    const done = await completion.catch(async (error: unknown) => {
      throw new Error(`${String(error)}; status ${JSON.stringify(await client.status(id))}; node's log: ${node.stderr().slice(-2_000)}`);
    });
    expect(done.output).toBe(EVENTS / 2);
    expect(node.stderr()).toContain("partition lost to another node");
  });
});
