import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { connect } from "../../clients/index.js";
import type { Transfer } from "../../src/demo/app.js";
import { LmdbStore } from "../../src/storage/index.js";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";

const ACCOUNTS = 10;
const SEED = 1_000;
const TRANSFERS = 200;
const KILLS = 2;

type TransferOutput = { ok: boolean; fromBalance: number; toBalance: number };

/** A small deterministic generator (the run prints its seed, so a failure can be replayed). */
function generator(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

describe("transfers in critical sections while the server is killed with SIGKILL", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("200 concurrent transfers among 10 accounts, two kills at random moments: every transfer completes once, totals are kept, nothing is negative, nothing stays locked", async () => {
    const seed = Number(process.env.TRANSFER_CRASH_SEED ?? Date.now() % 1_000_000);
    const random = generator(seed);
    const context = `seed ${seed} (TRANSFER_CRASH_SEED=${seed} replays it)`;
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const port = await freePort();
    const serverArgs = ["--data", dir.path, "--port", String(port)]; // the demo app: Account, Transfer
    let server: { child: ChildProcess; url: string } = await startServerProcess(serverArgs);
    cleanups.push(() => killAndWait(server.child));

    const client = await connect(server.url, { clientId: "transfer-crash", disconnectTimeoutMs: 60_000, connectTimeoutMs: 30_000 });
    cleanups.push(() => client.close());
    await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => client.signal(`Account/a${i}`, "deposit", SEED)));

    const transfers = Array.from({ length: TRANSFERS }, (_, i) => {
      const from = random(ACCOUNTS);
      const to = (from + 1 + random(ACCOUNTS - 1)) % ACCOUNTS;
      return { instanceId: `transfer-${i}`, from: `a${from}`, to: `a${to}`, amount: 1 + random(300) };
    });
    // All at once; the client resends the starts that were not durable when a kill landed.
    const started = Promise.all(transfers.map(({ instanceId, from, to, amount }) => client.start<typeof Transfer>("Transfer", { from, to, amount }, { instanceId })));
    started.catch(() => {});

    // Two kills at random moments while the transfers run (each restart takes the mailboxes and timers back).
    const killDelays: number[] = [];
    let killedWhileRunning = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const delayMs = 20 + random(kill === 0 ? 1_200 : 900);
      killDelays.push(delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await killAndWait(server.child, "SIGKILL");
      server = await startServerProcess(serverArgs);
      const statuses = await Promise.all(transfers.map(({ instanceId }) => client.status(instanceId)));
      if (statuses.some((status) => status === null || status.runtimeStatus === "Running" || status.runtimeStatus === "Pending")) killedWhileRunning++;
    }
    const where = `${context}, kills after ${killDelays.join(" and ")} ms`;
    expect(killedWhileRunning, `${where}: the kills landed while transfers ran`).toBeGreaterThan(0);

    await started;
    const outputs = new Map<string, TransferOutput>();
    for (const { instanceId } of transfers) {
      const status = await client.waitForCompletion<typeof Transfer>(instanceId, { timeoutMs: 60_000 });
      expect(status.runtimeStatus, `${where}: ${instanceId} ${JSON.stringify(status.failureDetails)}`).toBe("Completed");
      outputs.set(instanceId, status.output as TransferOutput);
    }

    // The books: each completed transfer moved its amount exactly once (or nothing, when it said ok: false).
    const expected = new Map(Array.from({ length: ACCOUNTS }, (_, i) => [`a${i}`, SEED]));
    for (const { instanceId, from, to, amount } of transfers) {
      const output = outputs.get(instanceId)!;
      expect(output.fromBalance, `${where}: ${instanceId}`).toBeGreaterThanOrEqual(0);
      if (!output.ok) continue;
      expected.set(from, expected.get(from)! - amount);
      expected.set(to, expected.get(to)! + amount);
    }
    const balances = await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => client.call<number>(`Account/a${i}`, "get")));
    expect(balances.reduce((sum, balance) => sum + balance, 0), where).toBe(ACCOUNTS * SEED);
    for (const balance of balances) expect(balance, where).toBeGreaterThanOrEqual(0);
    expect(balances, `${where}: the balances are what the completed transfers say`).toEqual(Array.from({ length: ACCOUNTS }, (_, i) => expected.get(`a${i}`)));
    expect([...outputs.values()].filter((output) => output.ok).length, where).toBeGreaterThan(TRANSFERS / 2);
    await client.close();

    // Stopped cleanly, the data directory says: no account locked, no message left in a mailbox.
    await killAndWait(server.child, "SIGTERM");
    const store = await LmdbStore.open({ path: dir.path });
    try {
      const locked = Array.from({ length: ACCOUNTS }, (_, i) => `Account/a${i}`).filter((id) => store.readEntity(id)?.lock !== undefined);
      expect(
        locked.map((id) => `${id} held by ${JSON.stringify(store.readEntity(id)?.lock)}`),
        `${where}: accounts still locked`,
      ).toEqual([]);
      const left = store.localPartitions.flatMap((partition) => [...store.readMailbox(partition)]);
      expect(left, `${where}: mailbox messages left`).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
