import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { connect } from "../../clients/index.js";
import { LAST_HOP } from "../fixtures/relay-app.js";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";

const APP = new URL("../fixtures/relay-app.ts", import.meta.url).pathname;
// Entities copy their state for each operation (so that a failed one rolls back): the tag maps here
// grow with the signals, so their count is kept where the whole run takes seconds, not minutes.
const SIGNALS = 4_000;
const LANES = 8;
const KILLS = 4;

describe("a server killed with SIGKILL again and again while entities signal each other", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("applies every signal exactly once at every hop of its chain and at the fan-in, across all the kills", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const port = String(await freePort());
    const serverArgs = ["--app", APP, "--data", dir.path, "--port", port];
    let server: { child: ChildProcess; url: string } = await startServerProcess(serverArgs);
    cleanups.push(() => killAndWait(server.child));

    const client = await connect(server.url, { clientId: "crash-loop", disconnectTimeoutMs: 60_000, maxQueuedRequests: SIGNALS });
    cleanups.push(() => client.close());
    let acked = 0;
    const settled: Array<Promise<void>> = [];
    for (let i = 0; i < SIGNALS; i++) {
      settled.push(client.signal(`Hop/0-${i % LANES}`, "pass", `t${i}`).then(() => void acked++));
      if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
    }
    for (let kill = 1; kill <= KILLS; kill++) {
      const target = (SIGNALS * kill) / (KILLS + 1);
      while (acked < target) await new Promise((resolve) => setTimeout(resolve, 5));
      await killAndWait(server.child, "SIGKILL"); // mid-burst, with chains in the mailboxes
      server = await startServerProcess(serverArgs);
    }
    await Promise.all(settled);

    // Every chain finishes (the mailboxes carry them across restarts): the tally sees every tag once.
    const tagsOf = async (id: string) => Object.entries((await client.get<Record<string, number>>(id)) ?? {});
    await expect.poll(async () => (await tagsOf("Tally/all")).length, { timeout: 30_000, interval: 200 }).toBe(SIGNALS);
    expect((await tagsOf("Tally/all")).filter(([, count]) => count !== 1)).toEqual([]);
    for (let level = 0; level <= LAST_HOP; level++) {
      let tags = 0;
      for (let lane = 0; lane < LANES; lane++) {
        const entries = await tagsOf(`Hop/${level}-${lane}`);
        expect(entries.filter(([, count]) => count !== 1), `Hop/${level}-${lane}`).toEqual([]);
        tags += entries.length;
      }
      expect(tags, `tags at hop ${level}`).toBe(SIGNALS);
    }
  });
});
