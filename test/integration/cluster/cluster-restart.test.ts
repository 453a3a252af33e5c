import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { connect, type DurableClient } from "../../../clients/index.js";
import type { Transfer } from "../../../src/demo/app.js";
import { startNatsCluster } from "../../support/nats-servers.js";
import { freePort } from "../support/test-server.js";
import { killAndWait } from "../support/server-process.js";
import { connect as connectNats } from "nats";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import { TestCluster, traceInStreams } from "./cluster-nodes.js";

type TransferOutput = { ok: boolean };
const COUNTERS = 200;
const ROUNDS = 5;
const CLIENTS = 3;
const ACCOUNTS = 8;
const TRANSFERS = 24;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("a whole cluster killed at once and started again from the snapshots and logs", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("restart of the whole cluster from the snapshots and logs loses nothing", { timeout: 400_000 }, async () => {
    const nats = await startNatsCluster(3);
    cleanups.push(() => nats.stop());
    const cluster = new TestCluster(nats.urls);
    cleanups.push(() => cluster.stop());
    // On a failure, what the nodes logged (warnings and errors) is part of the evidence.
    onTestFailed(() => console.log(cluster.nodes.map((node) => `${node.name} stderr: ${node.stderr().slice(-6_000)}`).join("\n")));
    const ports = [await freePort(), await freePort(), await freePort()];
    const old = [];
    // Logging at info: on a failure, the nodes' accounts of taking and opening partitions are part of the evidence.
    // Snapshots every few entries: the restart comes from snapshots and the logs after them.
    const snapshotting = ["--snapshot-entries", "5"];
    for (const [i, port] of ports.entries()) old.push(await cluster.startAt(`old${i}`, port, ["--log-level", "info", ...snapshotting]));
    await cluster.untilSpread(16, 4);
    const urls = old.map((node) => node.url);
    const startedAt = Date.now();

    // The clients outlive the nodes. The new nodes listen where the old ones did, so each client reconnects to
    // them and resends what was not answered, under its own client id: the signal marks that de-duplicate the
    // resends are in the partitions' logs too. So the assertion can be exact: every signal is acknowledged in
    // the end, and each counter holds exactly as many as were sent to it (none lost, none applied twice).
    const clients: DurableClient[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const client = await connect([urls[i]!, urls[(i + 1) % 3]!, urls[(i + 2) % 3]!], { clientId: `restart-${i}`, disconnectTimeoutMs: 300_000, reconnect: { maxDelayMs: 1_000 } });
      cleanups.push(() => client.close());
      clients.push(client);
    }
    const [first] = clients as [DurableClient];
    await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => first.signal(`Account/a${i}`, "deposit", 1_000)));
    const transfers = Array.from({ length: TRANSFERS }, (_, i) => ({ instanceId: `restart-t-${i}`, from: `a${i % ACCOUNTS}`, to: `a${(i + 3) % ACCOUNTS}`, amount: 1 + i }));
    const startTransfers = (list: typeof transfers) =>
      Promise.allSettled(list.map(({ instanceId, from, to, amount }, i) => clients[i % CLIENTS]!.start<typeof Transfer>("Transfer", { from, to, amount }, { instanceId })));
    const startedEarly = startTransfers(transfers.slice(0, TRANSFERS / 2));

    const acked = new Map<string, number>();
    const refused: string[] = [];
    let ackedTotal = 0;
    let startedLate: ReturnType<typeof startTransfers> | undefined;
    const load = Promise.all(
      clients.map(async (client, c) => {
        for (let round = 0; round < ROUNDS; round++) {
          await Promise.all(
            Array.from({ length: COUNTERS }, (_, k) =>
              client.signal(`Counter/restart-${k}`, "add", 1).then(
                () => {
                  acked.set(`Counter/restart-${k}`, (acked.get(`Counter/restart-${k}`) ?? 0) + 1);
                  ackedTotal++;
                },
                (error: unknown) => void refused.push(`client ${c} round ${round} Counter/restart-${k}: ${(error as { code?: string }).code} ${(error as Error).message}`),
              ),
            ),
          );
          if (c === 0 && round === 1) startedLate = startTransfers(transfers.slice(TRANSFERS / 2));
        }
      }),
    );

    // Mid-load (a third acknowledged), every node dies at once: nothing of theirs is handed over, and their disks are not used again.
    while (ackedTotal < (CLIENTS * ROUNDS * COUNTERS) / 3) await delay(10);
    await Promise.all(old.map((node) => killAndWait(node.child, "SIGKILL")));
    const killedAt = Date.now() - startedAt;
    const ackedAtKill = ackedTotal;
    const observer = await connectNats({ servers: nats.urls });
    const jsm = await observer.jetstreamManager();
    const trimmed = (await Promise.all(Array.from({ length: 16 }, async (_, p) => (await jsm.streams.info(partitionLogAddress("default", p).stream)).state.first_seq))).filter((first) => first > 1).length;
    await observer.close();
    expect(trimmed, "partition logs purged behind a snapshot before the kill").toBeGreaterThan(0);

    // Three new nodes, new names, empty data directories, the same NATS: everything comes back from the partitions' logs.
    await Promise.all(ports.map((port, i) => cluster.startAt(`new${i}`, port, ["--log-level", "info", ...snapshotting])));
    await cluster.untilSpread(16, 1, 120_000);

    await load;
    const early = await startedEarly;
    while (startedLate === undefined) await delay(10);
    const late = await startedLate;
    const startFailures = [...early, ...late].flatMap((result, i) => (result.status === "rejected" ? [`${transfers[i]!.instanceId}: ${String(result.reason)}`] : []));

    expect.soft(refused, "signals refused").toEqual([]);
    expect.soft(ackedTotal).toBe(CLIENTS * ROUNDS * COUNTERS);
    const values = await Promise.all(Array.from({ length: COUNTERS }, (_, k) => first.call<number>(`Counter/restart-${k}`, "get")));
    const wrong = values.flatMap((value, k) => (value === CLIENTS * ROUNDS ? [] : [`Counter/restart-${k}: ${value} (acknowledged ${acked.get(`Counter/restart-${k}`) ?? 0})`]));
    expect.soft(wrong, `counters not at ${CLIENTS * ROUNDS} (${ackedAtKill} signals were acknowledged before the kill)`).toEqual([]);

    // Transfers: each started once (a resent start is answered as the first one), each completes, and no money appears or vanishes.
    expect(startFailures).toEqual([]);
    const finished = await Promise.allSettled(transfers.map(({ instanceId }) => first.waitForCompletion<typeof Transfer>(instanceId, { timeoutMs: 180_000 })));
    const unfinished = transfers.filter((_, i) => finished[i]!.status === "rejected");
    if (unfinished.length > 0) {
      // Evidence for a report: where each unfinished transfer stands (its history's events) and what the nodes logged.
      const stands = await Promise.all(
        unfinished.map(async ({ instanceId, from, to }) => {
          const events = await first.history(instanceId).then(
            (history) => history.map((event) => ("name" in event ? `${event.type}:${event.name}` : event.type)),
            (error: unknown) => [String(error)],
          );
          const accounts = await Promise.all([from, to].map((key) => first.getWithVersion(`Account/${key}`)));
          return `${instanceId} (${from} -> ${to}): ${(await first.status(instanceId))?.runtimeStatus}; history ${JSON.stringify(events)}; accounts ${JSON.stringify(accounts)}`;
        }),
      );
      // And every log entry and inbox message that names them: where the message flow stopped.
      const observer = await connectNats({ servers: nats.urls });
      const traces = [];
      for (const { instanceId } of unfinished) traces.push(`${instanceId} in the streams:`, ...(await traceInStreams(observer, `"${instanceId}"`, startedAt)));
      await observer.close();
      console.log([`UNFINISHED transfers (the nodes were killed at ${killedAt} ms):`, ...stands, ...traces].join("\n"));
    }
    expect(unfinished.map(({ instanceId }) => instanceId), "transfers that did not finish").toEqual([]);
    for (const [i, { instanceId }] of transfers.entries()) {
      const status = (finished[i] as PromiseFulfilledResult<Awaited<ReturnType<typeof first.waitForCompletion<typeof Transfer>>>>).value;
      expect(status.runtimeStatus, instanceId).toBe("Completed");
      expect((status.output as TransferOutput).ok, instanceId).toBe(true);
    }
    const balances = await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => first.call<number>(`Account/a${i}`, "get")));
    expect(balances.reduce((sum, balance) => sum + balance, 0)).toBe(ACCOUNTS * 1_000);
    // Each transfer moved its amount once: the balances are what applying every transfer once gives.
    const expectedBalances = Array.from({ length: ACCOUNTS }, () => 1_000);
    for (const { from, to, amount } of transfers) {
      expectedBalances[Number(from.slice(1))]! -= amount;
      expectedBalances[Number(to.slice(1))]! += amount;
    }
    expect(balances).toEqual(expectedBalances);
    console.log(`${ackedAtKill} of ${CLIENTS * ROUNDS * COUNTERS} signals acknowledged before the kill; ${trimmed} of 16 logs purged behind snapshots`);
  });
});
