import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CHILD = fileURLToPath(new URL("./abort-while-closing-child.ts", import.meta.url));

describe("abort() while close() waits for a recovery (the disk stays full)", () => {
  it("leaves the event loop running: close() does not spin on the recovery that abort() ended", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const ended = await Promise.race([
      new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal === null ? `code ${code}` : `signal ${signal}`))),
      new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 15_000).unref()),
    ]);
    if (ended === "still running") child.kill("SIGKILL");
    // Once aborted, pipeline.recovering stays set (recover() returns early on `aborted`), so close()'s
    // `while (this.recovering …) await this.recovering` loops on a settled promise: no timer, no I/O runs again.
    expect({ ended, stdout: stdout.trim().split("\n") }).toEqual({ ended: "code 0", stdout: ["aborted", "timer fired"] });
  }, 30_000);
});
