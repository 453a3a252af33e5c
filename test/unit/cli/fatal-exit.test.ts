import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("../support/fatal-exit-child.ts", import.meta.url));
/** Generous: these end within a second or so; only a hang takes longer. */
const BOUND_MS = 20_000;

/** Runs the child in a mode; resolves with how it ended and its log lines. */
async function runChild(mode: string): Promise<{ ended: string; log: Array<Record<string, unknown>> }> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, mode], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = await Promise.race([
    new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal === null ? `code ${code}` : `signal ${signal}`))),
    new Promise<string>((resolve) => setTimeout(() => resolve("still running"), BOUND_MS).unref()),
  ]);
  if (ended === "still running") child.kill("SIGKILL");
  const log = stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ended, log };
}

describe("the fatal exit", () => {
  it("logs an uncaught exception with its stack, lets the store settle, and exits with code 1", async () => {
    const { ended, log } = await runChild("settles");
    expect(ended).toBe("code 1");
    expect(log).toEqual([expect.objectContaining({ level: "fatal", msg: "fatal error; exiting", source: "uncaught exception", error: "boom", stack: expect.stringContaining("Error: boom") })]);
  });

  it("handles an unhandled rejection the same way", async () => {
    const { ended, log } = await runChild("rejection");
    expect(ended).toBe("code 1");
    expect(log.map((line) => [line.msg, line.source])).toEqual([["fatal error; exiting", "unhandled rejection"]]);
  });

  it("only logs a second fatal error while exiting: it neither restarts nor stops the exit", async () => {
    const { ended, log } = await runChild("twice");
    expect(ended).toBe("code 1");
    expect(log.map((line) => line.msg)).toEqual(["fatal error; exiting", "another fatal error while exiting; ignored"]);
  });

  it("kills the process when the store does not settle in time", async () => {
    const { ended, log } = await runChild("stuck");
    expect(ended).toBe("signal SIGKILL");
    expect(log.map((line) => line.msg)).toEqual(["fatal error; exiting", "the store did not settle in time; killing the process"]);
  });

  it("kills the process when the store fails to settle", async () => {
    const { ended, log } = await runChild("failing");
    expect(ended).toBe("signal SIGKILL");
    expect(log.map((line) => line.msg)).toEqual(["fatal error; exiting", "the store could not settle; killing the process"]);
  });
});
