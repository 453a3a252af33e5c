import { describe, expect, it, onTestFailed } from "vitest";
import { connect, type DurableClient } from "../../../clients/index.js";
import type { Transfer } from "../../../src/demo/app.js";
import { partitionInboxAddress, partitionLogAddress } from "../../../src/cluster/log-names.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { freePort, tempDataDir } from "../support/test-server.js";
import { killAndWait, startServerProcess } from "../support/server-process.js";
import { cleanupsAfterEach, firstSequence, startNatsWithObserver } from "./log-nodes.js";

type TransferOutput = { ok: boolean };
const PARTITIONS = 16;
const LEASE_MS = 1_500;
const ACCOUNTS = 8;
const TRANSFERS = 24;
const COUNTERS_PER_PARTITION = 3;
const MAX_OUTSTANDING = 30;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Review coverage: snapshots every 2 entries (so that a kill or a pause lands in the middle of one: the
 * object stored, the pointer moved, the log purged, the inbox trimmed), one node SIGKILLed and started
 * again on its data directory (whose positions the others' snapshots purge meanwhile), another paused
 * with SIGSTOP past its lease and resumed (its snapshots in flight then run as a stale owner's), under
 * signals and transfers between partitions. Every signal is acknowledged in the end (clients resend
 * under their ids), and each counter holds exactly what was sent to it; the transfers complete and the
 * money is all there (each message between partitions applied once, though inboxes are trimmed).
 */
describe("review: snapshots under kills and pauses", () => {
  const cleanups = cleanupsAfterEach();

  it("nothing acknowledged is lost, nothing is applied twice", { timeout: 400_000 }, async () => {
    const { nats, observer } = await startNatsWithObserver(cleanups);

    const sent = new Map<string, number>();
    const acked = new Map<string, number>();
    const refused: string[] = [];
    const pending = new Set<Promise<void>>();
    const ackedTotal = () => [...acked.values()].reduce((sum, count) => sum + count, 0);
    type Node = { name: string; port: number; dir: { path: string; cleanup(): void }; child?: Awaited<ReturnType<typeof startServerProcess>> };
    const nodes: Node[] = [];
    for (const name of ["n0", "n1", "n2"]) nodes.push({ name, port: await freePort(), dir: tempDataDir() });
    const start = async (node: Node) => {
      node.child = await startServerProcess(["--data", node.dir.path, "--port", String(node.port), "--cluster", nats.urls.join(","), "--node", node.name, "--lease-ms", String(LEASE_MS), "--snapshot-entries", "2"]);
    };
    const stderrs: string[] = [];
    const began = Date.now();
    const events: string[] = [];
    const mark = (what: string) => void events.push(`${what} @${Date.now() - began}ms acked=${ackedTotal()} pending=${pending.size}`);
    cleanups.push(async () => {
      for (const node of nodes) {
        if (node.child) {
          node.child.child.kill("SIGCONT");
          await killAndWait(node.child.child, "SIGKILL");
        }
        node.dir.cleanup();
      }
    });
    onTestFailed(() => console.log([`events: ${events.join("; ")}`, ...stderrs, ...nodes.map((node) => `${node.name} stderr: ${node.child?.stderr().slice(-6_000)}`)].join("\n")));
    const served = async (node: Node): Promise<number[] | undefined> => {
      try {
        const health = (await (await fetch(`http://127.0.0.1:${node.port}/healthz`, { signal: AbortSignal.timeout(2_000) })).json()) as { cluster?: { partitions: number[] } };
        return health.cluster?.partitions ?? [];
      } catch {
        return undefined;
      }
    };
    const untilServedBy = async (by: readonly Node[], least: number) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const lists = await Promise.all(by.map(served));
        const all = lists.flatMap((list) => list ?? []);
        if (all.length === PARTITIONS && new Set(all).size === PARTITIONS && lists.every((list) => (list?.length ?? 0) >= least)) return;
        if (Date.now() > deadline) throw new Error(`partitions not served by ${by.map((node) => node.name).join(", ")}: ${JSON.stringify(lists)}`);
        await delay(200);
      }
    };
    for (const node of nodes) await start(node);
    await untilServedBy(nodes, 4);
    const [n0, n1, n2] = nodes as [Node, Node, Node];

    const urls = nodes.map((node) => `http://127.0.0.1:${node.port}`);
    const clients: DurableClient[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await connect([urls[i]!, urls[(i + 1) % 3]!, urls[(i + 2) % 3]!], { clientId: `snap-chaos-${i}`, disconnectTimeoutMs: 300_000, reconnect: { maxDelayMs: 1_000 } });
      cleanups.push(() => client.close());
      clients.push(client);
    }
    const [first] = clients as [DurableClient];
    await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => first.signal(`Account/chaos-a${i}`, "deposit", 1_000)));
    const transfers = Array.from({ length: TRANSFERS }, (_, i) => ({ instanceId: `chaos-t-${i}`, from: `chaos-a${i % ACCOUNTS}`, to: `chaos-a${(i + 3) % ACCOUNTS}`, amount: 1 + i }));
    const started = Promise.allSettled(transfers.map(({ instanceId, from, to, amount }, i) => clients[i % 3]!.start<typeof Transfer>("Transfer", { from, to, amount }, { instanceId })));

    const counters: string[] = [];
    const found = new Map<number, number>();
    for (let k = 0; counters.length < PARTITIONS * COUNTERS_PER_PARTITION; k++) {
      const id = `Counter/chaos-${k}`;
      const partition = partitionOf(id, PARTITIONS);
      if ((found.get(partition) ?? 0) >= COUNTERS_PER_PARTITION) continue;
      found.set(partition, (found.get(partition) ?? 0) + 1);
      counters.push(id);
    }
    let next = 0;
    let sending = true;
    // Per client at most MAX_OUTSTANDING unanswered: the client of a stopped node waits, the others go on.
    const outstanding = [0, 0, 0];
    const load = (async () => {
      while (sending) {
        const c = next % 3;
        if (outstanding[c]! < MAX_OUTSTANDING) {
          const id = counters[Math.floor(next / 3) % counters.length]!;
          sent.set(id, (sent.get(id) ?? 0) + 1);
          outstanding[c]!++;
          const signal: Promise<void> = clients[c]!.signal(id, "add", 1).then(
            () => void acked.set(id, (acked.get(id) ?? 0) + 1),
            (error: unknown) => void refused.push(`${id} @${Date.now() - began}ms: ${(error as { code?: string }).code} ${(error as Error).message}`),
          );
          const tracked = signal.finally(() => {
            pending.delete(tracked);
            outstanding[c]!--;
          });
          pending.add(tracked);
        }
        next++;
        await delay(4);
      }
    })();
    mark("load started");
    const progress = setInterval(() => mark("progress"), 10_000);
    cleanups.push(() => clearInterval(progress));
    while (ackedTotal() < 300) await delay(20);
    mark("killing n1");

    // A crash: n1 is killed, and started again on its data directory once the others serve everything.
    await killAndWait(n1.child!.child, "SIGKILL");
    stderrs.push(`n1 (killed) stderr: ${n1.child!.stderr().slice(-6_000)}`);
    await untilServedBy([n0, n2], 1);
    mark("n0 and n2 serve everything");
    const beforeRestart = ackedTotal();
    while (ackedTotal() < beforeRestart + 200) await delay(20);
    mark("restarting n1");
    await start(n1);
    await untilServedBy(nodes, 1);
    mark("n1 serves again");

    // A pause: n2 stopped past its lease while its snapshots are in flight, resumed once the others serve everything.
    const beforePause = ackedTotal();
    while (ackedTotal() < beforePause + 200) await delay(20);
    n2.child!.child.kill("SIGSTOP");
    mark("n2 stopped");
    await untilServedBy([n0, n1], 1);
    mark("n0 and n1 serve everything");
    const beforeResume = ackedTotal();
    while (ackedTotal() < beforeResume + 200) await delay(20);
    n2.child!.child.kill("SIGCONT");
    mark("n2 resumed");

    const afterResume = ackedTotal();
    while (ackedTotal() < afterResume + 300) await delay(20);
    sending = false;
    await load;
    mark("load stopped");
    const deadline = Date.now() + 180_000;
    while (pending.size > 0 && Date.now() < deadline) await delay(50);
    expect(pending.size, "signals still unanswered").toBe(0);
    await started;

    // Exactly once: every signal acknowledged, each counter holds what was sent to it.
    expect(refused).toEqual([]);
    const values = await Promise.all(counters.map((id) => first.call<number>(id, "get")));
    expect(Object.fromEntries(counters.map((id, i) => [id, values[i]]))).toEqual(Object.fromEntries(counters.map((id) => [id, sent.get(id) ?? 0])));
    const statuses = await Promise.all(transfers.map(({ instanceId }) => first.waitForCompletion<typeof Transfer>(instanceId, { timeoutMs: 150_000 })));
    for (const [index, status] of statuses.entries()) {
      expect(status.runtimeStatus, transfers[index]!.instanceId).toBe("Completed");
      expect((status.output as TransferOutput).ok, transfers[index]!.instanceId).toBe(true);
    }
    const balances = await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => first.call<number>(`Account/chaos-a${i}`, "get")));
    expect(balances.reduce((sum, balance) => sum + balance, 0)).toBe(ACCOUNTS * 1_000);
    // The snapshots did happen: every log was purged behind one, and inboxes that got messages were trimmed.
    const jsm = await observer.jetstreamManager();
    const firstOf = (stream: string) => firstSequence(jsm, stream);
    const logs = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => firstOf(partitionLogAddress("default", p).stream)));
    const inboxes = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => firstOf(partitionInboxAddress("default", p).stream).catch(() => 0)));
    expect(logs.filter((first) => first > 1)).toHaveLength(PARTITIONS);
    expect(inboxes.filter((first) => first > 1).length).toBeGreaterThan(0);
    // The resumed node is still up (or ended cleanly).
    const resumed = n2.child!.child;
    if (resumed.exitCode !== null || resumed.signalCode !== null) expect({ exitCode: resumed.exitCode, signal: resumed.signalCode }).toEqual({ exitCode: 0, signal: null });
    console.log(`signals ${ackedTotal()} acknowledged; log first sequences ${JSON.stringify(logs)}; inbox first sequences ${JSON.stringify(inboxes)}`);
  });
});
