import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { connect as connectNats } from "nats";
import { connect, type DurableClient } from "../../../clients/index.js";
import { leaseBucketAddress } from "../../../src/cluster/lease-names.js";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import { startNatsCluster } from "../../support/nats-servers.js";
import { entityHistory, TestCluster } from "./cluster-nodes.js";

const PARTITIONS = 16;
const COUNTERS = 64;
/** Signals each client sends, one after another per worker, WORKERS at a time. */
const PER_CLIENT = 900;
const WORKERS = 12;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("three nodes on a three-server NATS cluster, one NATS server killed under load", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("SIGKILL of one NATS server of three loses nothing acknowledged", { timeout: 400_000 }, async () => {
    const nats = await startNatsCluster(3);
    cleanups.push(() => nats.stop());
    // Every node is given all three NATS servers (TestCluster passes the list): it moves to another when its own dies.
    const cluster = new TestCluster(nats.urls);
    cleanups.push(() => cluster.stop());
    // On a failure, what the nodes logged (warnings and errors) is part of the evidence.
    onTestFailed(() => console.log(cluster.nodes.map((node) => `${node.name} stderr: ${node.stderr().slice(-6_000)}`).join("\n")));
    for (const name of ["n0", "n1", "n2"]) await cluster.start(name);
    await cluster.untilSpread(PARTITIONS, 4);
    const urls = cluster.nodes.map((node) => node.url);

    // A client per node, each also knowing the others.
    const clients: DurableClient[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await connect([urls[i]!, urls[(i + 1) % 3]!, urls[(i + 2) % 3]!], { clientId: `nats-kill-${i}`, disconnectTimeoutMs: 300_000 });
      cleanups.push(() => client.close());
      clients.push(client);
    }

    // Steady load: WORKERS signals in flight per client, each to the next counter, until PER_CLIENT are sent.
    const sent = new Map<string, number>();
    const acked = new Map<string, number>();
    const refused: string[] = [];
    let ackedTotal = 0;
    const load = Promise.all(
      clients.flatMap((client, c) => {
        let next = 0;
        return Array.from({ length: WORKERS }, async () => {
          while (next < PER_CLIENT) {
            const id = `Counter/nk-${(c * 7 + next++) % COUNTERS}`;
            sent.set(id, (sent.get(id) ?? 0) + 1);
            try {
              await client.signal(id, "add", 1);
              acked.set(id, (acked.get(id) ?? 0) + 1);
              ackedTotal++;
            } catch (error) {
              refused.push(`client ${c} ${id}: ${(error as { code?: string }).code} ${(error as Error).message}`);
            }
          }
        });
      }),
    );

    // The server to kill: the one that leads the most partition logs (ties: the lease bucket's leader), so that
    // commits, not only connections, must move to the other two.
    const observer = await connectNats({ servers: nats.urls });
    cleanups.push(() => observer.close());
    const jsm = await observer.jetstreamManager();
    const leads = [0, 0, 0];
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const leader = (await jsm.streams.info(partitionLogAddress("default", partition).stream)).cluster?.leader;
      if (leader?.startsWith("n")) leads[Number(leader.slice(1))]! += 1;
    }
    const leaseLeader = (await jsm.streams.info(leaseBucketAddress("default").stream)).cluster?.leader;
    const most = Math.max(...leads);
    const leaseLeaderIndex = leaseLeader === undefined ? -1 : Number(leaseLeader.slice(1));
    const victim = leads[leaseLeaderIndex] === most ? leaseLeaderIndex : leads.indexOf(most);
    const startedAt = Date.now();

    while (ackedTotal < (3 * PER_CLIENT) / 3) await delay(10);
    await nats.kill(victim);
    const killedAt = Date.now() - startedAt;
    const ackedAtKill = ackedTotal;

    await load;
    // Every node lived through it.
    for (const node of cluster.nodes) expect({ node: node.name, exitCode: node.child.exitCode, signal: node.child.signalCode, stderr: node.child.exitCode === null ? "" : node.stderr().slice(-2_000) }).toEqual({ node: node.name, exitCode: null, signal: null, stderr: "" });

    // Every signal was acknowledged in the end, and each applied exactly once.
    expect(refused, "signals refused").toEqual([]);
    expect(ackedTotal).toBe(3 * PER_CLIENT);
    const [first] = clients as [DurableClient];
    const ids = [...sent.keys()].sort();
    const values = await Promise.all(ids.map((id) => first.call<number>(id, "get")));
    const wrong = ids.filter((id, i) => values[i] !== (acked.get(id) ?? 0));
    if (wrong.length > 0) {
      // Evidence for a report: the logs' account of each wrong counter, and what the nodes logged.
      const histories = await Promise.all(wrong.map((id) => entityHistory(observer, id, startedAt)));
      console.log([`WRONG (nats-server n${victim} killed at ${killedAt} ms):`, ...histories].join("\n"));
    }
    expect(Object.fromEntries(ids.map((id, i) => [id, values[i]]))).toEqual(Object.fromEntries(ids.map((id) => [id, acked.get(id) ?? 0])));
    expect(Object.fromEntries(ids.map((id) => [id, acked.get(id) ?? 0]))).toEqual(Object.fromEntries(ids.map((id) => [id, sent.get(id)])));
    const owned = await cluster.untilSpread(PARTITIONS, 1, 60_000);
    console.log(`killed nats-server n${victim} (it led ${leads[victim]} of ${PARTITIONS} partition logs; the lease bucket's leader was ${leaseLeader}) after ${ackedAtKill} of ${3 * PER_CLIENT} acknowledgements; partitions afterwards ${JSON.stringify(Object.fromEntries(owned))}`);
  });
});
