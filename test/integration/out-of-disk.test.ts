import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, isEntityError, type DurableClient } from "../../clients/index.js";
import * as demoApp from "../../src/demo/app.js";
import { defineActivity, defineOrchestration } from "../../src/orchestration/index.js";
import { defineEntity } from "../../src/runtime/index.js";
import { fillFileSystem, mountSmallFileSystem, whyCannotMount, type SmallFileSystem } from "../support/small-file-system.js";
import { startTestServer } from "./support/test-server.js";

/**
 * Out of disk space, for real: the data directory is on a small tmpfs that the test fills. Writes
 * fail with `store_unavailable`; nothing acknowledged is lost or changed, nothing refused is applied
 * (not even through memory that ran ahead of the disk); reads keep being answered; the server does
 * not stop, and writes work again once there is room. Needs root (mount), as .ci/run has.
 */

const Blob = defineEntity("Blob", {
  initialState: () => "",
  operations: {
    put: (ctx, text: string) => {
      ctx.state = text;
    },
    length: (ctx) => ctx.state.length,
  },
});

/** Activities slow enough that their results come back while the disk is full. */
const SlowEcho = defineActivity("SlowEcho", async (text: string) => {
  await new Promise((resolve) => setTimeout(resolve, 150));
  return text;
});
const SlowSequence = defineOrchestration("SlowSequence", function* (ctx) {
  const out: string[] = [];
  for (const text of ["one", "two", "three", "four"]) out.push(yield* ctx.call(SlowEcho, text));
  return out;
});

const app = { ...demoApp, Blob, SlowEcho, SlowSequence };
const MOUNT_SIZE_MB = 24;
const BLOB = "x".repeat(60_000);

const FILE_SYSTEMS = (["tmpfs", "ext4"] as const).map((kind) => {
  const cannotMount = whyCannotMount(kind);
  if (cannotMount) console.warn(`out-of-disk test on ${kind} skipped: it cannot be mounted here (${cannotMount}); .ci/run runs as root`);
  return { kind, cannotMount };
});

describe.each(FILE_SYSTEMS)("a server whose disk ($kind) fills up", ({ kind, cannotMount }) => {
  if (cannotMount !== undefined) return void it.skip(`needs a ${kind} mount`, () => {});
  let fileSystem: SmallFileSystem;
  let dataDir: string;
  let filler: string;
  const fatal: unknown[] = [];

  beforeAll(() => {
    fileSystem = mountSmallFileSystem(kind, MOUNT_SIZE_MB);
    dataDir = join(fileSystem.mountPoint, "data");
    filler = join(fileSystem.mountPoint, "filler");
    mkdirSync(dataDir);
  });
  afterAll(() => fileSystem?.remove());

  async function outcome<T>(work: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string; message: string }> {
    try {
      return { ok: true, value: await work };
    } catch (error) {
      if (!isEntityError(error)) throw error;
      return { ok: false, code: error.code, message: error.message };
    }
  }

  it("refuses writes with store_unavailable, keeps serving reads, applies nothing refused, and writes again once there is room", async () => {
    const server = await startTestServer("uws", { app, dataDir, onFatal: (error) => fatal.push(error) });
    let client: DurableClient | undefined = await connect(server.url, { clientId: "disk-filler" });
    let acknowledgedAdds = 0;
    const storedBlobs = new Set<string>();
    try {
      await client.signal("Counter/steady", "add", 1);
      acknowledgedAdds++;
      // An orchestration in flight: its activities' results arrive while nothing can be written.
      const inFlight = await client.start("SlowSequence", undefined, { instanceId: "in-flight" });
      fillFileSystem(fileSystem.mountPoint);

      // Blobs and counter adds at once, so refused blob writes share ticks (and memory) with counter adds.
      const refusals: string[] = [];
      for (let round = 0; round < 400 && refusals.length < 5; round++) {
        const [blob, add] = await Promise.all([outcome(client.call(`Blob/b${round}`, "put", BLOB)), outcome(client.signal("Counter/steady", "add", 1))]);
        if (blob.ok) storedBlobs.add(`Blob/b${round}`);
        else refusals.push(`${blob.code}: ${blob.message}`);
        if (add.ok) acknowledgedAdds++;
        else refusals.push(`${add.code}: ${add.message}`);
      }
      expect(refusals.length).toBeGreaterThan(0);
      for (const refusal of refusals) expect(refusal).toMatch(/^store_unavailable: the server could not write to its store: .*Nothing of this request was applied/);

      // Reads are answered, with what was acknowledged: a refused add, though its turn ran in memory, is not seen.
      expect(await client.get("Counter/steady")).toBe(acknowledgedAdds);
      for (const id of storedBlobs) expect(await client.call(id, "length")).toBe(BLOB.length);
      const viaHttp = await fetch(`${server.url}/runtime/webhooks/durabletask/entities/Counter/steady`);
      expect(viaHttp.status).toBe(200);
      expect(await viaHttp.json()).toBe(acknowledgedAdds);
      // An orchestration cannot start while nothing can be written; it is refused the same way.
      const refusedStart = await outcome(client.start("HelloSequence", undefined, { instanceId: "while-full" }));
      if (!refusedStart.ok) expect(refusedStart.code).toBe("store_unavailable");

      // Room again: the same server (it never stopped) takes writes, and an orchestration runs to its end.
      rmSync(filler);
      let added = await outcome(client.signal("Counter/steady", "add", 1));
      for (let attempt = 0; !added.ok && attempt < 50; attempt++) added = await outcome(client.signal("Counter/steady", "add", 1));
      expect(added.ok).toBe(true);
      acknowledgedAdds++;
      expect(await client.get("Counter/steady")).toBe(acknowledgedAdds);
      const id = await client.start("HelloSequence", undefined, { instanceId: "after-room" });
      expect((await client.waitForCompletion(id, { timeoutMs: 20_000 })).output).toEqual(["Hello Tokyo!", "Hello Seattle!", "Hello London!"]);
      // The one in flight ends as if nothing happened: results lost with refused commits were produced again.
      const done = await client.waitForCompletion(inFlight, { timeoutMs: 20_000 });
      expect(done.runtimeStatus).toBe("Completed");
      expect(done.output).toEqual(["one", "two", "three", "four"]);
      expect(fatal).toEqual([]);
    } finally {
      await client?.close();
      client = undefined;
      await server.close();
    }

    // After a restart: exactly what was acknowledged.
    const reopened = await startTestServer("ws", { app, dataDir });
    try {
      const again = await connect(reopened.url);
      expect(await again.get("Counter/steady")).toBe(acknowledgedAdds);
      for (const id of storedBlobs) expect(await again.call(id, "length")).toBe(BLOB.length);
      const listed = await again.listEntities({ type: "Blob", pageSize: 1000 });
      expect(listed.entities.map((entity) => entity.id).sort()).toEqual([...storedBlobs].sort());
      await again.close();
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
