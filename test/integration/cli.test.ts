import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, runCliToEnd, startServerProcess } from "./support/server-process.js";

describe("the durable-entities command", () => {
  const dir = tempDataDir();
  let server: { child: ChildProcess; url: string };
  let url: string;
  beforeAll(async () => {
    server = await startServerProcess(["--data", dir.path, "--port", String(await freePort())]);
    url = server.url;
  });
  afterAll(async () => {
    await killAndWait(server.child, "SIGTERM");
    dir.cleanup();
  });

  it("signals, calls and gets with Name/key ids and JSON inputs", async () => {
    const signal = await runCliToEnd(["signal", "Counter/alice", "add", "5", "--url", url]);
    expect(signal.code).toBe(0);
    const call = await runCliToEnd(["call", "Counter/alice", "get", "--url", url]);
    expect(call).toMatchObject({ code: 0, stdout: "5\n" });
    const get = await runCliToEnd(["get", "Counter/alice", "--url", url]);
    expect(get).toMatchObject({ code: 0, stdout: "5\n" });
    await runCliToEnd(["signal", "Stats/cli", "record", "10", "--url", url]);
    const stats = await runCliToEnd(["get", "Stats/cli", "--url", url]);
    expect(JSON.parse(stats.stdout)).toEqual({ count: 1, sum: 10, min: 10, max: 10, mean: 10 });
    const missing = await runCliToEnd(["get", "Counter/nobody", "--url", url]);
    expect(missing).toMatchObject({ code: 0, stdout: "null\n" });
  });

  it("prints one clear line and exits non-zero on errors", async () => {
    const other = tempDataDir();
    const cases: Array<[string[], RegExp]> = [
      [["call", "Counter/alice", "fly", "--url", url], /^error: unknown_operation: .*"fly"/],
      [["call", "Planet/earth", "spin", "--url", url], /^error: unknown_entity: /],
      [["call", "Counter/alice", "add", "\"x\"", "--url", url], /^error: operation_failed: .*add takes a number/],
      [["signal", "Counter/alice", "add", "five", "--url", url], /^error: input must be JSON/],
      [["signal", "Counter/alice", "--url", url], /^error: usage: /],
      [["launch"], /^error: unknown command "launch"/],
      [["serve", "--port", "99999"], /^error: --port must be/],
      [["serve", "--app", "/nonexistent/app.ts"], /^error: app file .* does not exist/],
      [["call", "Counter/alice", "get", "--url", url, "--urll", "x"], /^error: unknown option --urll; call takes --url/],
      [["call", "Counter/alice", "add", "--5", "--url", url], /^error: unknown option --5/],
      [["serve", "--prot", "7000"], /^error: unknown option --prot; serve takes /],
      [["get", "Counter/alice", "--url", "notaurl"], /^error: cannot connect to "notaurl": it is not a URL/],
      [["serve", "--transport", "ws", "--port", new URL(url).port, "--data", other.path], /^error: could not listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/],
      [["serve", "--transport", "uws", "--port", new URL(url).port, "--data", other.path], /^error: could not listen on 127\.0\.0\.1:\d+ \(is the port in use/],
      [["serve", "--port", "0", "--data", dir.path], /^error: data directory .* is in use by another server/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCliToEnd(args);
      expect(result.code, args.join(" ")).not.toBe(0);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(pattern);
    }
    other.cleanup();
  });

  it("reports an unreachable server", async () => {
    const result = await runCliToEnd(["get", "Counter/alice", "--url", `http://127.0.0.1:${await freePort()}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: disconnected: /);
  });
});
