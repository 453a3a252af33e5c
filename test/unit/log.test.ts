import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createLogger } from "../../src/log.js";

/** A stream whose reader went away: every write fails with EPIPE, as a pipe's does. */
function brokenPipe(): Writable & { writes: number } {
  const stream = new Writable({
    write(_chunk, _encoding, callback) {
      stream.writes++;
      callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    },
  }) as Writable & { writes: number };
  stream.writes = 0;
  return stream;
}

describe("the logger", () => {
  it("writes one JSON line a message", () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    createLogger("info", stream).warn("entity evicted", { id: "Counter/a" });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", msg: "entity evicted", id: "Counter/a" });
  });

  it("does not throw, nor leave an unhandled error, when its stream fails (EPIPE), and drops later lines", async () => {
    const stream = brokenPipe();
    const log = createLogger("info", stream);
    expect(() => log.error("first line")).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve)); // the stream reports its error now: an unhandled one would fail this test
    expect(stream.destroyed).toBe(true);
    expect(() => {
      log.error("after the error");
      createLogger("info", stream).info("from a second logger on the same stream");
    }).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.writes).toBe(1); // later lines were dropped, not written
    expect(stream.listenerCount("error")).toBe(1); // attached once, however many loggers
  });

  it("does not throw when a write throws, or when fields cannot be serialized", () => {
    const lines: string[] = [];
    const throwing = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    throwing.write = () => {
      throw new Error("write failed");
    };
    expect(() => createLogger("info", throwing).error("line")).not.toThrow();

    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => createLogger("info", stream).error("odd fields", { cyclic, big: 1n })).not.toThrow();
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "error", msg: "odd fields" });
  });

  it("on the process's stderr, keeps the process alive after the reader of stderr went away", async () => {
    const script = fileURLToPath(new URL("./support/log-after-stderr-closes.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["pipe", "pipe", "pipe"] });
    try {
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      await until(() => stdout.includes("ready") || child.exitCode !== null);
      child.stderr.destroy(); // the reader goes away
      await new Promise((resolve) => setTimeout(resolve, 100));
      child.stdin.write("go\n");
      const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)));
      expect(stdout).toContain("alive");
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
