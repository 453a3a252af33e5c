import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { connect, type DurableClient } from "../../clients/index.js";
import type { Alarm, Ring, ScheduleRing } from "../fixtures/scheduled-signals-app.js";
import { LmdbStore } from "../../src/storage/index.js";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";

const APP = new URL("../fixtures/scheduled-signals-app.ts", import.meta.url).pathname;
const AHEAD_MS = 2_000;
const TARGET = "Alarm/x";
const TAGS = ["from-client", "from-entity", "from-orchestration"];

type Server = { child: ChildProcess; url: string };

/**
 * A scheduled signal from each sender (a client, an entity's operation, an orchestration), all due
 * two seconds ahead, with the server process stopped before they are due and started again; the
 * Alarm entity records the server's clock when each ring runs.
 */
describe("scheduled signals across a restart of the server process", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function rings(client: DurableClient): Promise<Ring[]> {
    return ((await client.get<{ rings: Ring[] }>(TARGET)) ?? { rings: [] }).rings;
  }

  /** Schedules one ring per sender, due at `at`; resolves once all three are durable. */
  async function scheduleAll(client: DurableClient, at: number): Promise<void> {
    await client.signal(TARGET, "ring", "from-client", { at });
    await client.entity<typeof Alarm>("Alarm/scheduler").signal.schedule({ target: TARGET, tag: "from-entity", at });
    const id = await client.start<typeof ScheduleRing>("ScheduleRing", { target: TARGET, tag: "from-orchestration", at });
    expect((await client.waitForCompletion(id, { timeoutMs: 10_000 })).runtimeStatus).toBe("Completed");
  }

  /** What a stopped server's data directory holds: its durable timers, and the target's rings. */
  async function readStopped(dir: string): Promise<{ timers: number; rings: Ring[] }> {
    const store = await LmdbStore.open({ path: dir });
    try {
      const timers = store.localPartitions.reduce((sum, partition) => sum + store.readDueTimers(partition, Number.MAX_SAFE_INTEGER, 1_000).length, 0);
      return { timers, rings: (store.readEntity(TARGET)?.state as { rings: Ring[] } | undefined)?.rings ?? [] };
    } finally {
      await store.close();
    }
  }

  it.each([
    ["SIGKILL", "killed with SIGKILL before they are due", false],
    ["SIGTERM", "stopped cleanly (SIGTERM) before they are due", false],
    ["SIGKILL", "killed before they are due and started again only after", true],
  ] as const)("%s: %s, they run exactly once, not before their time", async (signal, _title, downPastDue) => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const serverArgs = ["--app", APP, "--data", dir.path, "--port", String(await freePort())];
    const startingAt = Date.now();
    let server: Server = await startServerProcess(serverArgs);
    cleanups.push(() => killAndWait(server.child));
    // Two seconds ahead, or more on a machine where a start takes long, so that the restart lands before they are due.
    const ahead = downPastDue ? AHEAD_MS : Math.max(AHEAD_MS, 2 * (Date.now() - startingAt) + 1_500);
    const client = await connect(server.url, { clientId: "scheduled-signals", disconnectTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
    cleanups.push(() => client.close());

    const at = Date.now() + ahead;
    await scheduleAll(client, at);
    expect(await rings(client), "nothing rang at once").toEqual([]);
    await killAndWait(server.child, signal);
    const stoppedAt = Date.now();
    expect(stoppedAt, `the server was stopped ${stoppedAt - at} ms after the rings were due: too slow a machine for this test`).toBeLessThan(at);
    expect(await readStopped(dir.path), "three durable timers wait in the stopped server's data").toEqual({ timers: 3, rings: [] });

    if (downPastDue) await new Promise((resolve) => setTimeout(resolve, at - Date.now() + 200));
    server = await startServerProcess(serverArgs);
    const restartedAt = Date.now();
    if (!downPastDue) {
      expect(restartedAt, `the restart took until ${restartedAt - at} ms past due: too slow a machine for this test`).toBeLessThan(at);
      // The restarted server holds them until their time (a fresh connection: the client's own reconnects back off).
      const probe = await connect(server.url);
      const early = await rings(probe);
      const answeredAt = Date.now();
      await probe.close();
      if (answeredAt < at) expect(early, `nothing rang before its time after the restart (answered ${at - answeredAt} ms before due)`).toEqual([]);
    }

    // Each rings once, at or after its time, and not much later than it could.
    const deadline = Math.max(at, restartedAt) + 10_000;
    let seen: Ring[] = [];
    while ((seen = await rings(client)).length < TAGS.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    const context = `due ${at}, stopped ${stoppedAt - at} ms and restarted ${restartedAt - at} ms from it: ${JSON.stringify(seen)}`;
    expect(seen.map((ring) => ring.tag).sort(), context).toEqual(TAGS);
    for (const ring of seen) {
      expect(ring.at, `${ring.tag} ran early: ${context}`).toBeGreaterThanOrEqual(at);
      expect(ring.at, `${ring.tag} ran late: ${context}`).toBeLessThan(Math.max(at, restartedAt) + 5_000);
    }

    console.log(`scheduled signals, ${signal}${downPastDue ? ", down past due" : ""}: stopped ${at - stoppedAt} ms before due, serving again ${restartedAt - at} ms from due, rang ${seen.map((ring) => ring.at - at).join(", ")} ms after due`);
    // Exactly once: stopped, the data holds the three rings and no timer, so nothing can ring again.
    await client.close();
    await killAndWait(server.child, "SIGTERM");
    const stored = await readStopped(dir.path);
    expect(stored.timers, context).toBe(0);
    expect(stored.rings, context).toEqual(seen);
  });
});
