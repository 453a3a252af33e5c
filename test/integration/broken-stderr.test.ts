import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { connect } from "../../clients/index.js";
import { RawSocket } from "./support/raw-socket.js";
import { killAndWait, runCli } from "./support/server-process.js";
import { freePort, tempDataDir } from "./support/test-server.js";

const APP = new URL("../fixtures/live-app.ts", import.meta.url).pathname;

describe("a server whose stderr reader goes away (`serve 2>&1 | logger`, and the logger restarts)", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("drops its log lines and keeps serving, and still stops cleanly on SIGTERM", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const port = await freePort();
    const child = runCli(["serve", "--app", APP, "--data", dir.path, "--port", String(port)], { env: { DURABLE_ENTITIES_LOG: "info" } });
    cleanups.push(() => killAndWait(child));
    const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal === null ? `code ${code}` : `signal ${signal}`)));
    await serving(child);

    child.stderr!.destroy(); // the reader goes away: the server's next log line meets EPIPE
    await new Promise((resolve) => setTimeout(resolve, 100));

    // A realistic log line: a small request for huge answers closes its connection with a warning.
    const asker = await RawSocket.greeted(port);
    asker.send({ type: "call", id: 1, entity: "Board/big", op: "fill", input: 1_000_000 });
    await asker.waitFor((frame) => frame.id === 1);
    asker.send(Array.from({ length: 600 }, (_, i) => ({ type: "get", id: 10 + i, entity: "Board/big" })));
    expect(await asker.waitForClose(30_000)).toBe(4008);

    const client = await connect(`http://127.0.0.1:${port}`, { clientId: "after-epipe", connectTimeoutMs: 5_000 });
    cleanups.push(() => client.close());
    await client.signal("Board/small", "bump", 1);
    expect(await client.call("Board/small", "bump", 1)).toBe(2);
    expect(child.exitCode).toBeNull();

    await client.close();
    child.kill("SIGTERM"); // "stopping" is logged (and dropped) too
    expect(await exited).toBe("code 0");
  });
});

/** Resolves once the server prints that it is serving. */
function serving(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("serving")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}
