/**
 * The server under test, as its own process: `node --import tsx test/bench/server-entry.ts <dataDir> <ws|uws> [appModule]`.
 * It hosts the demo app unless `appModule` (a path; `.ts` loads through tsx) names another. Prints
 * one JSON line `{"port":…,"pid":…}` on stdout once listening. Over IPC it answers `{type:"rss"}`
 * with its memory use and `{type:"stop"}` by closing cleanly and exiting (so that `--cpu-prof` gets
 * to write its profile).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startServer } from "../../src/server/index.js";

const [dataDir, transport, appModule] = process.argv.slice(2);
if (!dataDir || (transport !== "ws" && transport !== "uws")) {
  console.error("usage: server-entry.ts <dataDir> <ws|uws> [appModule]");
  process.exit(2);
}
const app = (await import(appModule ? pathToFileURL(resolve(appModule)).href : "../../src/demo/app.js")) as Record<string, unknown>;

const server = await startServer({ dataDir, app, host: "127.0.0.1", port: 0, transport });
process.stdout.write(`${JSON.stringify({ port: server.port, pid: process.pid, transport: server.transport })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const timer = setTimeout(() => process.exit(1), 10_000);
  try {
    await server.close();
  } finally {
    clearTimeout(timer);
    process.exit(0);
  }
}

process.on("message", (message: { type?: string }) => {
  if (message.type === "rss") {
    const { rss, heapUsed } = process.memoryUsage();
    process.send?.({ type: "rss", rss, heapUsed });
  } else if (message.type === "stop") void stop();
});
// The bench runner went away: do not linger.
process.on("disconnect", () => void stop());
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
