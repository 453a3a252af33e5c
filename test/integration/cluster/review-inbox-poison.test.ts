import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats } from "nats";
import { connect } from "../../../clients/index.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { startTestServer } from "../support/test-server.js";

/**
 * Review: a partition's inbox stream takes messages from any NATS client. decodeBundle() checks only
 * `v`, `from` and that `messages` is an array; InboxParticipant.runTurns then destructures each
 * element as `[outboxSeq, message]` and reads `message.target`. An element of another shape throws
 * inside the pipeline's tick: the tick "breaks" and the hub takes no more work. The bundle stays at
 * the inbox position not yet applied, so every later owner of the partition breaks on it too.
 * (Fixed: decodeBundle checks every message, and the participant skips what is not for its partition.)
 */
describe("review: a malformed bundle in a partition's inbox", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  for (const [what, messages] of [
    ["an element that is not a pair", [5]],
    ["a message that is null", [[1, null]]],
  ] as const) {
    it(`${what}: is skipped, and the node goes on serving`, { timeout: 60_000 }, async () => {
      const nats = await startNatsServer();
      cleanups.push(() => nats.stop());
      const server = await startTestServer("ws", { cluster: { servers: nats.urls, node: "a", leaseMs: 2_000 } });
      cleanups.push(() => server.stop());
      const client = await connect(server.url, { clientId: "inbox-poison" });
      cleanups.push(() => client.close());
      await client.signal("Counter/x", "add", 1);
      expect(await client.call<number>("Counter/x", "get")).toBe(1);

      const rogue = await connectNats({ servers: nats.urls });
      cleanups.push(() => rogue.close());
      await rogue.jetstream().publish("de.default.inbox.0", new TextEncoder().encode(JSON.stringify({ v: 1, from: 1, messages })));
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // the inbox reader is woken, or polls within a second

      const answer = await Promise.race([
        client.signal("Counter/x", "add", 1).then(() => client.call<number>("Counter/x", "get")),
        new Promise((resolve) => setTimeout(() => resolve("no answer within 15 s"), 15_000)),
      ]).catch((error: unknown) => `refused: ${String((error as Error).message ?? error)}`);
      expect(answer).toBe(2);
    });
  }
});
