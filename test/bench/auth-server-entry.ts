/**
 * The server under test with authentication, as its own process, for the `held-connections` scenario:
 * `node --import tsx --expose-gc test/bench/auth-server-entry.ts <dataDir> <ws|uws> <tokensFile> <heartbeatSeconds>`.
 * It hosts the demo app with the tokens of `tokensFile` (what `serve --auth` does) and prints one JSON
 * line `{"port":…,"pid":…,"transport":…}` once listening. Over IPC it answers `{type:"memory"}` with
 * `process.memoryUsage()` taken after two full garbage collections (so heap figures are live objects,
 * not garbage), and `{type:"stop"}` by closing cleanly.
 */
import { startServer } from "../../src/server/index.js";
import { TokenPolicy } from "../../src/security/index.js";
import * as demoApp from "../../src/demo/app.js";

const [dataDir, transport, tokensFile, heartbeat] = process.argv.slice(2);
if (!dataDir || (transport !== "ws" && transport !== "uws") || !tokensFile) {
  console.error("usage: auth-server-entry.ts <dataDir> <ws|uws> <tokensFile> [heartbeatSeconds]");
  process.exit(2);
}

const server = await startServer({
  dataDir,
  app: demoApp,
  host: "127.0.0.1",
  port: 0,
  transport,
  access: await TokenPolicy.fromFile(tokensFile),
  ...(heartbeat ? { heartbeatSeconds: Number(heartbeat) } : {}),
});
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
  if (message.type === "memory") {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    process.send?.({ type: "memory", collected: gc !== undefined, ...process.memoryUsage() });
  } else if (message.type === "stop") void stop();
});
process.on("disconnect", () => void stop());
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
