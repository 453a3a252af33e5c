import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { connect } from "../../clients/index.js";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";

const APP = new URL("../fixtures/ledger-app.ts", import.meta.url).pathname;
const SIGNALS = 30_000;
const LEDGERS = 50;

describe("a server killed with SIGKILL in the middle of a signal burst", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("has applied every acknowledged signal exactly once after restart, and resent ones are not applied twice", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const port = String(await freePort());
    const serverArgs = ["--app", APP, "--data", dir.path, "--port", port];
    let server: { child: ChildProcess; url: string } = await startServerProcess(serverArgs);
    cleanups.push(() => killAndWait(server.child));

    const client = await connect(server.url, { clientId: "crash-burst", disconnectTimeoutMs: 60_000, maxQueuedRequests: SIGNALS });
    cleanups.push(() => client.close());
    const acked = new Set<number>();
    let killed = false;
    let resolveHalfway!: () => void;
    const halfway = new Promise<void>((resolve) => (resolveHalfway = resolve));
    const settled: Array<Promise<void>> = [];
    for (let i = 0; i < SIGNALS; i++) {
      settled.push(
        client.signal(`Ledger/l${i % LEDGERS}`, "record", `t${i}`).then(() => {
          if (!killed) acked.add(i);
          if (acked.size >= SIGNALS / 4) resolveHalfway();
        }),
      );
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve)); // let the burst flow while acks arrive
    }
    await halfway;
    killed = true;
    await killAndWait(server.child, "SIGKILL");
    const ackedBeforeKill = acked.size;
    expect(ackedBeforeKill).toBeGreaterThan(0);
    expect(ackedBeforeKill).toBeLessThan(SIGNALS); // the kill really was mid-burst

    // Restart on the same port and data: the client reconnects and resends what was not acknowledged.
    server = await startServerProcess(serverArgs);
    await Promise.all(settled);

    const counts = new Map<string, number>();
    for (let l = 0; l < LEDGERS; l++) {
      const ledger = (await client.get<Record<string, number>>(`Ledger/l${l}`)) ?? {};
      for (const [tag, count] of Object.entries(ledger)) counts.set(tag, count);
    }
    const applied = [...counts.values()];
    expect(applied.filter((count) => count !== 1)).toEqual([]); // nothing applied twice
    for (const i of acked) expect(counts.get(`t${i}`), `acknowledged signal t${i}`).toBe(1); // nothing acknowledged lost
    expect(counts.size).toBe(SIGNALS); // and every resent one applied once
  });
});
