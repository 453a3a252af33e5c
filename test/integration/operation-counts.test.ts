import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import { startTestServer, tempDataDir } from "./support/test-server.js";

/** What the operation and orchestration counters count, as the README (Metrics) says. */

async function scrapeTotal(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

describe("durable_entities_operations_total outcome rejected", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * README: rejected is "refused before it was queued: an operation or type the app lacks, a bad id",
   * whichever way the operation came: over the WebSocket or through Durable Functions' HTTP API.
   */
  it("counts a signal to a type the app lacks through the HTTP API, as it does over the WebSocket", async () => {
    const server = await startTestServer("ws");
    cleanups.push(() => server.stop());
    const client = await connect(server.url);
    cleanups.push(() => client.close());
    await expect(client.signal("Nope/a", "add", 1)).rejects.toMatchObject({ code: "unknown_entity" });
    expect(await scrapeTotal(server.url, "durable_entities_operations_total", { outcome: "rejected" })).toBe(1);
    const response = await fetch(`${server.url}/runtime/webhooks/durabletask/entities/Nope/a?op=add`, { method: "POST", headers: { "content-type": "application/json" }, body: "1" });
    expect(response.status).toBe(404);
    expect(await scrapeTotal(server.url, "durable_entities_operations_total", { outcome: "rejected" })).toBe(2);
  });
});

describe("durable_entities_orchestrations_started_total and _finished_total across a restart", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * README (Metrics): the counters count from the server's start, and instances outlive it: one started
   * before a restart and ended after it counts only as finished (started minus finished is not what is
   * running).
   */
  it("count an instance started before a restart and terminated after it only as finished", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const first = await startTestServer("ws", { dataDir: dir.path });
    const client1 = await connect(first.url);
    const id = await client1.start("ApprovalWorkflow", null);
    await client1.close();
    await first.close();

    const second = await startTestServer("ws", { dataDir: dir.path });
    cleanups.push(() => second.close());
    const client2 = await connect(second.url);
    cleanups.push(() => client2.close());
    await client2.terminate(id, "not needed");
    expect(await client2.waitForCompletion(id, { timeoutMs: 10_000 })).toMatchObject({ runtimeStatus: "Terminated" });
    expect(await scrapeTotal(second.url, "durable_entities_orchestrations_started_total")).toBe(0);
    expect(await scrapeTotal(second.url, "durable_entities_orchestrations_finished_total", { status: "Terminated" })).toBe(1);
  });
});
