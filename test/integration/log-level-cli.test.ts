import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { killAndWait, runCli, runCliToEnd } from "./support/server-process.js";
import { freePort, tempDataDir } from "./support/test-server.js";

/** `durable-entities serve` with `args`, run until it serves, then stopped with SIGTERM: its stderr, as parsed lines. */
async function serveAndStop(args: string[], env: NodeJS.ProcessEnv, cleanups: Array<() => Promise<void> | void>): Promise<Array<Record<string, unknown>>> {
  const dir = tempDataDir();
  cleanups.push(dir.cleanup);
  const port = await freePort();
  const child = runCli(["serve", "--data", dir.path, "--port", String(port), ...args], { env });
  cleanups.push(() => killAndWait(child));
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await serving(child);
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  const lines = stderr.split("\n").filter((line) => line !== "");
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>); // every line is one JSON object
}

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

describe("durable-entities serve --log-level", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("warn: no info lines (the flag wins over DURABLE_ENTITIES_LOG)", async () => {
    const lines = await serveAndStop(["--log-level", "warn"], { DURABLE_ENTITIES_LOG: "debug" }, cleanups);
    for (const line of lines) expect(["warn", "error", "fatal"]).toContain(line.level);
    expect(lines.map((line) => line.msg)).not.toContain("listening");
    expect(lines.map((line) => line.msg)).not.toContain("stopping");
  });

  it("debug: debug lines too, each with its level's label, an ISO time and the hub it is about", async () => {
    const lines = await serveAndStop(["--log-level=debug"], { DURABLE_ENTITIES_LOG: "warn" }, cleanups);
    const opened = lines.find((line) => line.msg === "task hub opened");
    expect(opened).toMatchObject({ level: "debug", hub: "default", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", msg: "listening" }));
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", msg: "stopping", signal: "SIGTERM" }));
  });

  it("without the flag, DURABLE_ENTITIES_LOG sets the level", async () => {
    const lines = await serveAndStop([], { DURABLE_ENTITIES_LOG: "error" }, cleanups);
    expect(lines).toEqual([]);
  });

  it("an unknown level is a usage error (exit code 2) that names the levels", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const result = await runCliToEnd(["serve", "--data", dir.path, "--port", "0", "--log-level", "loud"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"');
    expect(result.stdout).not.toContain("serving");
  });
});
