import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import { RawSocket } from "./support/raw-socket.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";
import { tempDataDir, TRANSPORTS } from "./support/test-server.js";

/**
 * Deeply nested JSON in the values a frame carries (an orchestration's input, an event's data, a
 * reason, a scheduled signal's input), in messages far below the size limit: the server answers the
 * request and goes on serving. Entity operations already refuse inputs nested deeper than 256 levels,
 * and the HTTP API answers them 400 ("the input nests deeper than 256 levels"); the frames here are
 * the WebSocket paths that reach JSON.stringify (a recursive function) first. Found by
 * fuzz-frames.test.ts. The server is the real CLI in its own process, so that a crash is its exit
 * (and the next case gets a new server).
 */

const DEPTH = 10_000;
const NESTED = `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`;
const STACK_TRACE = /\n\s*at \S/;

describe.each(TRANSPORTS)("deeply nested values in frames over %s", (transport) => {
  let dir: ReturnType<typeof tempDataDir>;
  let server: { child: ChildProcess; url: string; stderr(): string } | undefined;
  let client: DurableClient | undefined;
  let port = 0;
  let restarts = 0;

  /** The server, started again when the previous case killed it (its data directory kept). */
  async function running(): Promise<{ client: DurableClient; port: number }> {
    if (server && server.child.exitCode === null && server.child.signalCode === null && client) return { client, port };
    await client?.close();
    if (server) restarts++;
    server = await startServerProcess(["--data", join(dir.path, "data"), "--port", "0", "--transport", transport]);
    port = Number(new URL(server.url).port);
    client = await connect(server.url, { clientId: `deep-${transport}-${restarts}` });
    return { client, port };
  }

  /** What became of the server after a case: alive and answering, or why not. */
  async function stillServing(): Promise<string> {
    const { child, stderr } = server!;
    await new Promise((resolve) => setTimeout(resolve, 300)); // a crash is not instantaneous
    if (child.exitCode !== null || child.signalCode !== null) {
      const fatal = stderr().split("\n").filter((line) => line.includes('"level":"error"')).join("\n") || stderr().slice(-500);
      return `the server exited (code ${child.exitCode}): ${fatal.slice(0, 1_500)}`;
    }
    const peer = await RawSocket.greeted(port);
    try {
      peer.send({ type: "call", id: 1, entity: "Counter/after-deep", op: "add", input: 1 });
      const answer = await peer.waitFor((frame) => frame.id === 1);
      return answer.type === "result" ? "serving" : `a call after it was answered ${JSON.stringify(answer)}`;
    } finally {
      peer.close();
    }
  }

  /** Sends `frame` (its JSON text) on a fresh greeted connection; resolves with its answer. */
  async function ask(frame: string): Promise<Record<string, unknown> | string> {
    const { port } = await running();
    const peer = await RawSocket.greeted(port);
    try {
      peer.send(frame);
      return await peer.waitFor((f) => f.id === 7 || (Array.isArray(f.ids) && f.ids.includes(7)), 5_000);
    } catch (error) {
      return (error as Error).message;
    } finally {
      peer.close();
    }
  }

  beforeAll(async () => {
    dir = tempDataDir();
    mkdirSync(join(dir.path, "data"));
    const { client } = await running();
    // Instances that stay Running (each waits 72 hours for an approval), for the frames that need one.
    for (const id of ["deep-raise", "deep-suspend", "deep-terminate"]) await client.start("ApprovalWorkflow", null, { instanceId: id });
  });

  afterAll(async () => {
    await client?.close();
    if (server) await killAndWait(server.child);
    dir?.cleanup();
  });

  const cases: Array<[string, string]> = [
    ["start with a deeply nested input", `{"type":"start","id":7,"name":"HelloSequence","input":${NESTED}}`],
    ["raise with deeply nested data, to a running instance", `{"type":"raise","id":7,"instanceId":"deep-raise","event":"Deep","data":${NESTED}}`],
    ["raise with deeply nested data, to no instance", `{"type":"raise","id":7,"instanceId":"no-such-instance","event":"Deep","data":${NESTED}}`],
    ["suspend a running instance with a deeply nested reason", `{"type":"suspend","id":7,"instanceId":"deep-suspend","reason":${NESTED}}`],
    ["terminate a running instance with a deeply nested reason", `{"type":"terminate","id":7,"instanceId":"deep-terminate","reason":${NESTED}}`],
    ["a scheduled signal with a deeply nested input", `{"type":"signal","id":7,"entity":"Counter/deep","op":"add","at":${Date.now() + 3_600_000},"input":${NESTED}}`],
  ];

  it.each(cases)("%s: answered, and the server goes on serving", async (_name, frame) => {
    expect(frame.length).toBeLessThan(64 * 1024);
    const answer = await ask(frame);
    const after = await stillServing();
    expect({ answer: typeof answer === "string" ? answer.slice(0, 300) : answer.type, after }).toEqual({ answer: expect.stringMatching(/^(error|ack|result)$/), after: "serving" });
    if (typeof answer !== "string" && answer.type === "error") {
      expect(answer.code).not.toBe("internal");
      expect(String(answer.message)).not.toMatch(STACK_TRACE);
    }
  });
});
