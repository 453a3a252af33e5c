import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats } from "nats";
import { connect } from "../../../clients/index.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { startTestServer } from "../support/test-server.js";

/**
 * Review: any NATS client can publish to the hub's subjects. A payload that is JSON but not an object
 * (`null`) or an object of the wrong shape must be dropped; the node must go on serving. (A throw in a
 * subscription callback used to end the NATS connection's reader: nats-payloads.ts checks and guards.)
 */
describe("review: malformed messages on the cluster's NATS subjects", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const cases: Array<[string, (p: number) => string, string]> = [
    ["a forwarded request that is JSON null", (p) => `de.default.requests.${p}`, "null"],
    ["a forwarded request without its request", (p) => `de.default.requests.${p}`, JSON.stringify({ to: "instance" })],
    ["an interest announcement that is JSON null", () => "de.default.interest", "null"],
    ["an interest announcement whose entities is not a list", () => "de.default.interest", JSON.stringify({ entities: 5 })],
    ["relayed changes that are JSON null", (p) => `de.default.changes.${p}`, "null"],
    ["relayed changes whose entities is not a list", (p) => `de.default.changes.${p}`, JSON.stringify({ entities: {} })],
  ];

  for (const [what, subject, payload] of cases) {
    it(`${what}: the node goes on committing`, { timeout: 60_000 }, async () => {
      const nats = await startNatsServer();
      cleanups.push(() => nats.stop());
      const server = await startTestServer("ws", { cluster: { servers: nats.urls, node: "a", leaseMs: 2_000 } });
      cleanups.push(() => server.stop());
      const client = await connect(server.url, { clientId: "bad-input" });
      cleanups.push(() => client.close());
      await client.signal("Counter/x", "add", 1);
      expect(await client.call<number>("Counter/x", "get")).toBe(1);

      const rogue = await connectNats({ servers: nats.urls });
      cleanups.push(() => rogue.close());
      rogue.publish(subject(0), new TextEncoder().encode(payload));
      await rogue.flush();
      await new Promise((resolve) => setTimeout(resolve, 500));

      // Still serving: a signal commits (through the partition log) and is read back.
      const answer = await Promise.race([
        client.signal("Counter/x", "add", 1).then(() => client.call<number>("Counter/x", "get")),
        new Promise((resolve) => setTimeout(() => resolve("no answer within 15 s"), 15_000)),
      ]);
      expect(answer).toBe(2);
    });
  }
});
