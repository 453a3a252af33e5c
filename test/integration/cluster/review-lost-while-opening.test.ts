import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats, headers } from "nats";
import { ensureLogStream } from "../../../src/cluster/log-stream.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { startTestServer } from "../support/test-server.js";

/**
 * Review: ClusterPartitions' `acquired` handler awaits logs.openPartition(p), which adds the log to
 * PartitionLogs only at its end, then calls owned(). When the lease is lost while the partition is
 * opening (another node took it over; HeldLeases calls `lost` "while `acquired` is still running"),
 * `lost` runs logs.closePartition(p), which removes nothing yet; the open then finishes, adds the log,
 * and the node serves and writes a partition whose lease another node holds, for good: nothing ever
 * closes it again (HeldLeases no longer tracks the lease).
 * (Fixed: closePartition marks an open under way, which then gives up instead of adding the log.)
 */
describe("review: a lease lost while its partition is being opened", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("the partition is not served by the node that lost its lease", { timeout: 90_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const other = await connectNats({ servers: nats.urls });
    cleanups.push(() => other.close());

    // A long log for partition 0, so that opening it (one direct get per entry) takes a while.
    const jsm = await other.jetstreamManager();
    await ensureLogStream(jsm, { stream: "DE_default_LOG_0", subject: "de.default.log.0" }, { replicas: 1, duplicateWindowMs: 120_000 });
    const js = other.jetstream();
    const entry = new TextEncoder().encode(JSON.stringify({ v: 1, w: [] }));
    for (let batch = 0; batch < 8; batch++) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => {
          const h = headers();
          h.set("Nats-Msg-Id", `old.${batch}.${i}`);
          return js.publish("de.default.log.0", entry, { headers: h });
        }),
      );
    }

    const starting = startTestServer("ws", { cluster: { servers: nats.urls, node: "a", leaseMs: 2_000 } });
    starting.then((server) => cleanups.push(() => server.stop()), () => undefined);

    // As soon as node a holds partition 0's lease (and is opening it), another node takes the lease over, and keeps it renewed.
    const kv = await other.jetstream().views.kv("DE_default_LEASES", { bindOnly: true }).catch(async () => {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const bucket = await other.jetstream().views.kv("DE_default_LEASES", { bindOnly: true }).catch(() => undefined);
        if (bucket) return bucket;
      }
    });
    let takenOver = false;
    while (!takenOver) {
      const lease = await kv.get("p.0").catch(() => null);
      const value = lease?.operation === "PUT" ? (lease.json() as { node: string | null; epoch: number; open: boolean }) : undefined;
      if (value?.node === "a") {
        await kv.put("p.0", JSON.stringify({ node: "b", epoch: value.epoch + 1, open: true }));
        takenOver = true;
      } else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    let renewing = true;
    const renewals = (async () => {
      while (renewing) {
        await kv.put("p.0", JSON.stringify({ node: "b", epoch: 99, open: true }));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    cleanups.push(async () => {
      renewing = false;
      await renewals;
    });

    const server = await starting; // (waits up to 30 s for every partition to have a live owner: b has no heartbeat)
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const lease = (await kv.get("p.0"))!.json() as { node: string };
    const owned = server.hubs.list()[0]!.cluster!.owned;
    console.log(`lease of partition 0 held by ${lease.node}; node a serves ${JSON.stringify(owned)}`);
    expect(lease.node).toBe("b");
    expect(owned).not.toContain(0);
  });
});
