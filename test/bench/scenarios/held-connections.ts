/**
 * `held-connections`: 10,000 authenticated WebSocket connections (quick: 2,000), opened from 4 load
 * processes with a bearer token, held for longer than two heartbeat intervals (the server pings, the
 * peers answer), then each asked for an entity's state once. Reports the server's memory before and
 * after (RSS from /proc; V8 heap and external memory after full garbage collections) and what one
 * connection costs; checks that every connection was admitted, stayed, and answered correctly.
 *
 * The scenario runs its own server (auth-server-entry.ts: the demo app behind a tokens file, as
 * `serve --auth` runs it), beside the runner's default one, which stays idle.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "../../../clients/index.js";
import { onExit, startWorker, track, type Worker } from "../children.js";
import { info, round, type ScenarioResult } from "../report.js";
import { all, stopWorkers, type Scenario, type ScenarioContext } from "./scenario.js";

const TOKEN = "bench-held-connections-0123456789";
const ENTITY = "Counter/held";
const STATE = 42;
const PROCESSES = 4;
/** File descriptors the server keeps for itself besides the sockets (LMDB, stdio, IPC, listen socket…). */
const FD_MARGIN = 200;
const HEARTBEAT_SECONDS = 5;

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  collected: boolean;
}

interface Checked {
  right: number;
  wrong: number;
  unanswered: number;
  checkMs: number;
  droppedWhileHeld: number;
  firstError: string | null;
}

/** The server of this scenario: its own process, with a tokens file. */
async function startAuthServer(transport: string): Promise<{ url: string; pid: number; memory(): Promise<Memory>; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "durable-entities-bench-held-"));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  const tokens = join(dir, "tokens.json");
  writeFileSync(tokens, JSON.stringify({ tokens: { [TOKEN]: { name: "bench", grants: [{ entities: "*", actions: ["*"] }] } } }));
  const entry = fileURLToPath(new URL("../auth-server-entry.ts", import.meta.url));
  const child = track(
    spawn(process.execPath, ["--import", "tsx", "--expose-gc", entry, join(dir, "data"), transport, tokens, String(HEARTBEAT_SECONDS)], {
      stdio: ["ignore", "pipe", "inherit", "ipc"],
      env: { ...process.env, DURABLE_ENTITIES_LOG: process.env.DURABLE_ENTITIES_LOG ?? "warn" },
    }),
  );
  const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const newline = buffered.indexOf("\n");
      if (newline >= 0) resolve(JSON.parse(buffered.slice(0, newline)) as { port: number; pid: number });
    });
    child.once("exit", (code) => reject(new Error(`the authenticated server exited (code ${code}) before it listened`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    memory: () =>
      new Promise<Memory>((resolve) => {
        const onMessage = (message: Memory & { type?: string }) => {
          if (message.type !== "memory") return;
          child.off("message", onMessage);
          resolve(message);
        };
        child.on("message", onMessage);
        child.send({ type: "memory" });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The transport the runner chose, read from its default server: uWebSockets.js names itself in every response. */
async function transportOf(url: string): Promise<"ws" | "uws"> {
  const response = await fetch(`${url}/healthz`);
  await response.arrayBuffer();
  return response.headers.has("uwebsockets") ? "uws" : "ws";
}

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

export const heldConnections: Scenario = {
  name: "held-connections",
  async run(context: ScenarioContext): Promise<ScenarioResult> {
    const { quick, openFileLimit } = context;
    const notes: string[] = [];
    let connections = quick ? 2_000 : 10_000;
    if (openFileLimit !== undefined && connections + FD_MARGIN > openFileLimit) {
      const reduced = openFileLimit - FD_MARGIN;
      notes.push(`open-file limit is ${openFileLimit}: ${reduced} connections instead of ${connections} (raise the hard limit, ulimit -Hn, for the full figure)`);
      connections = reduced;
    }
    const holdMs = quick ? 2 * HEARTBEAT_SECONDS * 1000 + 1_000 : 5 * HEARTBEAT_SECONDS * 1000;
    const transport = await transportOf(context.server.url);
    const server = await startAuthServer(transport);
    const workers: Worker[] = [];
    try {
      const setup = await connect(server.url, { token: TOKEN });
      await setup.signal(ENTITY, "add", STATE);
      if ((await setup.get(ENTITY)) !== STATE) throw new Error(`${ENTITY} does not read ${STATE} after the set-up signal`);
      // A warm-up: a few connections opened and closed, so that what the first ones allocate once (code, pools) is in the "before" figures.
      const warmup = await Promise.all(Array.from({ length: 50 }, () => connect(server.url, { token: TOKEN })));
      await Promise.all(warmup.map((client) => client.get(ENTITY)));
      await Promise.all([setup, ...warmup].map((client) => client.close()));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = await server.memory();

      const perProcess = Math.ceil(connections / PROCESSES);
      for (let p = 0; p < PROCESSES; p++) {
        const count = Math.min(perProcess, connections - p * perProcess);
        workers.push(startWorker("held-connections", `held connections ${p}`, { url: server.url, token: TOKEN, connections: count, concurrency: 64 }));
      }
      const ready = await all<{ connections: number; connectMs: number }>(workers, "ready", 300_000);
      const opened = ready.reduce((sum, r) => sum + r.connections, 0);
      const connectSeconds = Math.max(...ready.map((r) => r.connectMs)) / 1000;
      const held = await server.memory();

      await new Promise((resolve) => setTimeout(resolve, holdMs)); // past several heartbeats: the server pings, the peers answer
      for (const worker of workers) worker.send({ type: "check", entity: ENTITY, state: STATE });
      const checked = await all<Checked>(workers, "checked", 180_000);
      const afterCheck = await server.memory();
      for (const worker of workers) worker.send({ type: "close" });
      await all(workers, "closed", 60_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const afterClose = await server.memory();

      const sum = (pick: (c: Checked) => number) => checked.reduce((total, c) => total + pick(c), 0);
      const right = sum((c) => c.right);
      const failures: string[] = [];
      if (opened < connections) failures.push(`only ${opened} of ${connections} connections were admitted`);
      if (sum((c) => c.droppedWhileHeld) > 0) failures.push(`${sum((c) => c.droppedWhileHeld)} connections closed while held`);
      if (right < opened) failures.push(`${opened - right} connections did not answer the check correctly (${sum((c) => c.wrong)} wrong, ${sum((c) => c.unanswered)} unanswered)`);
      const firstError = checked.find((c) => c.firstError)?.firstError;
      if (firstError) notes.push(`first connection error: ${firstError}`);
      if (!before.collected) notes.push("the server ran without --expose-gc: heap figures include garbage");
      const perConnection = (pick: (m: Memory) => number) => (pick(held) - pick(before)) / Math.max(1, opened);
      /** Resident memory outside V8's heap: the transport's native buffers, and the rest of the process. */
      const native = (m: Memory) => m.rss - m.heapTotal;
      notes.push(
        `server memory (MiB) before / held / after the check / after closing: RSS ${mib(before.rss)} / ${mib(held.rss)} / ${mib(afterCheck.rss)} / ${mib(afterClose.rss)}; ` +
          `heap used ${mib(before.heapUsed)} / ${mib(held.heapUsed)} / ${mib(afterCheck.heapUsed)} / ${mib(afterClose.heapUsed)}; ` +
          `external ${mib(before.external)} / ${mib(held.external)} / ${mib(afterCheck.external)} / ${mib(afterClose.external)}`,
      );
      return {
        scenario: "held-connections",
        figures: [
          info("connections held (authenticated)", opened, ""),
          info("connect time (all)", connectSeconds, "s"),
          info("server RSS before", mib(before.rss), "MiB"),
          info("server RSS held", mib(held.rss), "MiB"),
          info("server RSS per connection", Math.round(perConnection((m) => m.rss)), "B"),
          info("server JS heap per connection", Math.round(perConnection((m) => m.heapUsed)), "B"),
          info("server RSS outside the JS heap per connection", Math.round(perConnection(native)), "B"),
          info("server external per connection", Math.round(perConnection((m) => m.external)), "B"),
          info("check (a get on every connection)", round(Math.max(...checked.map((c) => c.checkMs)), 0), "ms"),
          info("server RSS after closing all", mib(afterClose.rss), "MiB"),
        ],
        failures,
        json: {
          transport,
          connections: opened,
          connectSeconds: round(connectSeconds, 1),
          holdSeconds: holdMs / 1000,
          heartbeatSeconds: HEARTBEAT_SECONDS,
          answeredRight: right,
          memoryBefore: before,
          memoryHeld: held,
          memoryAfterCheck: afterCheck,
          memoryAfterClose: afterClose,
          rssBytesPerConnection: Math.round(perConnection((m) => m.rss)),
          heapBytesPerConnection: Math.round(perConnection((m) => m.heapUsed)),
          externalBytesPerConnection: Math.round(perConnection((m) => m.external)),
          nativeBytesPerConnection: Math.round(perConnection(native)),
        },
        notes,
      };
    } finally {
      await stopWorkers(workers);
      await server.stop();
    }
  },
};
