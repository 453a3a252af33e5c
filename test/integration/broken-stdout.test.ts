import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import { killAndWait, runCli } from "./support/server-process.js";
import { freePort, tempDataDir } from "./support/test-server.js";

describe("a server whose stdout reader is gone before the banner (`serve | true`)", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("drops the banner and keeps serving, and still stops cleanly on SIGTERM", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const port = await freePort();
    const child = runCli(["serve", "--data", dir.path, "--port", String(port)], { env: { DURABLE_ENTITIES_LOG: "info" } });
    child.stdout!.destroy(); // the reader goes away at once: the banner meets EPIPE
    cleanups.push(() => killAndWait(child));
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal === null ? `code ${code}` : `signal ${signal}`)));

    // Without the banner, the server is found by polling its port.
    const deadline = Date.now() + 20_000;
    let healthy = false;
    while (!healthy && Date.now() < deadline && child.exitCode === null) {
      healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(healthy, `the server did not start: ${stderr}`).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the banner's EPIPE has been reported by now

    const client = await connect(`http://127.0.0.1:${port}`, { clientId: "after-epipe", connectTimeoutMs: 5_000 });
    cleanups.push(() => client.close());
    await client.signal("Counter/stdout", "add", 2);
    expect(await client.call("Counter/stdout", "get")).toBe(2);
    expect(child.exitCode).toBeNull();
    expect(stderr).not.toContain("fatal");

    await client.close();
    child.kill("SIGTERM");
    expect(await exited).toBe("code 0");
    expect(stderr).not.toContain("EPIPE");
  });
});
