import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats, headers } from "nats";
import { connect, type DurableClient } from "../../../clients/index.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { startTestServer } from "../support/test-server.js";

const PARTITIONS = 16;

function idsIn(partition: number, count: number, prefix: string): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (partitionOf(`Counter/${prefix}${i}`, PARTITIONS) === partition) ids.push(`Counter/${prefix}${i}`);
  return ids;
}

/**
 * Review: CommitPipeline.runTick's success path says `if (epoch !== this.epoch) return failAll(releases,
 * storeUnavailable(undefined), true)`: a tick built before an earlier tick's commit failed is answered
 * "nothing was applied" even when its own commit landed. With one store that cannot happen (commits
 * are chained: after a failed one, the next fails too). In cluster mode each partition has its own
 * log: a commit to partition X can be refused (fenced) while a later tick, writing only partition Y,
 * lands. Its calls were applied, but are answered store_unavailable ("nothing ... was applied").
 * (Fixed: a tick whose commit resolved is released whatever the epoch.)
 */
describe("review: a commit that landed is answered as refused after another partition's commit failed", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("every call answered with an error left the counter unchanged", { timeout: 60_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const server = await startTestServer("ws", { cluster: { servers: nats.urls, node: "a", leaseMs: 2_000 } });
    cleanups.push(() => server.stop());
    const clients: DurableClient[] = [];
    for (let i = 0; i < 2; i++) {
      const client = await connect(server.url, { clientId: `refused-${i}` });
      cleanups.push(() => client.close());
      clients.push(client);
    }
    const [x] = idsIn(3, 1, "x");
    const ys = idsIn(7, 40, "y");
    const rogue = await connectNats({ servers: nats.urls });
    cleanups.push(() => rogue.close());

    let ok = 0;
    const refused = new Map<string, number>();
    let stop = false;
    const loops = ys.map(async (id, i) => {
      while (!stop) {
        try {
          await clients[i % 2]!.call<number>(id, "add", 1);
          ok++;
        } catch (error) {
          const message = String((error as Error).message);
          refused.set(message, (refused.get(message) ?? 0) + 1);
        }
      }
    });
    for (let round = 0; round < 5; round++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      // Another writer appends to partition 3's log (as a node that took it over would): this node's next append there is fenced.
      const h = headers();
      h.set("Nats-Msg-Id", `rogue-${round}`);
      await rogue.jetstream().publish("de.default.log.3", new TextEncoder().encode(JSON.stringify({ v: 1, w: [] })), { headers: h });
      await clients[0]!.call(x!, "add", 1).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop = true;
    await Promise.all(loops);

    const values = await Promise.all(ys.map((id) => clients[0]!.call<number>(id, "get")));
    const applied = values.reduce((sum, value) => sum + value, 0);
    console.log(`partition 7: ${ok} calls answered, ${applied} applied; refusals: ${JSON.stringify(Object.fromEntries(refused))}`);
    expect(applied).toBe(ok);
  });
});
