import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type DurableClient, type FailedSignal } from "../../clients/index.js";
import type { Logger } from "../../src/log.js";
import { defineEntity } from "../../src/runtime/index.js";
import { RawSocket } from "./support/raw-socket.js";
import { runCliToEnd } from "./support/server-process.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

const Fragile = defineEntity("Fragile", {
  initialState: () => ({ calls: 0 }),
  operations: {
    explode: (ctx, input: { n: number }) => {
      ctx.state.calls++;
      throw new Error(`exploded on ${input.n}`);
    },
  },
});

const Sender = defineEntity("Sender", {
  initialState: () => ({ sent: 0 }),
  operations: {
    send: (ctx, input: { to: string; n: number }) => {
      ctx.signalEntity(input.to, "explode", { n: input.n });
      ctx.state.sent++;
      return "sent";
    },
  },
});

interface Line {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function captureLog(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const logger = (bindings: Record<string, unknown>): Logger => {
    const write = (level: string) => (message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields: { ...bindings, ...fields } });
    return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error"), fatal: write("fatal"), child: (more) => logger({ ...bindings, ...more }) };
  };
  return { lines, ...logger({}) };
}

describe.each(TRANSPORTS)("failures of operations over %s", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: DurableClient;
  let log: ReturnType<typeof captureLog>;
  beforeEach(async () => {
    log = captureLog();
    server = await startTestServer(transport, { app: { Fragile, Sender }, log });
    client = await connect(server.url);
  });
  afterEach(async () => {
    await client.close();
    await server.stop();
  });

  it("a signal between entities whose operation throws: a warn line with its stack, and a failure listed by the client and the CLI", async () => {
    // The caller of the sender sees success: the signal to Fragile fails later, where nobody waits for it.
    expect(await client.call("Sender/s", "send", { to: "Fragile/a", n: 1 })).toBe("sent");
    await expect.poll(async () => (await client.failures({ entityType: "Fragile" })).failures.length).toBe(1);

    const page = await client.failures({ entityType: "Fragile" });
    const expected: FailedSignal = {
      seq: 1,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown as string,
      entityId: "Fragile/a",
      operation: "explode",
      input: { n: 1 },
      source: "Sender/s",
      code: "operation_failed",
      message: "Fragile/a explode: exploded on 1",
    };
    expect(page).toEqual({ failures: [expected] });
    expect(await client.failures()).toEqual(page);
    expect(await client.failures({ entityType: "Sender" })).toEqual({ failures: [] });
    expect(JSON.stringify(page)).not.toContain("at explode"); // the stack stays in the log
    expect(await client.get("Fragile/a")).toBeNull(); // rolled back: the failed operation made nothing

    const failed = log.lines.filter((line) => line.message === "operation failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: "warn",
      fields: { entityId: "Fragile/a", operation: "explode", code: "operation_failed", error: "Fragile/a explode: exploded on 1", source: "Sender/s" },
    });
    expect(failed[0]!.fields.stack).toMatch(/^Error: exploded on 1\n\s+at explode /);

    const printed = await runCliToEnd(["failures", "Fragile", "--url", server.url]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(
      `#1  ${page.failures[0]!.time}  Fragile/a explode  from Sender/s\n  operation_failed: Fragile/a explode: exploded on 1\n  input: {"n":1}\n`,
    );
    expect(printed.stderr).toBe("1 failed signal of Fragile\n");
    const json = await runCliToEnd(["failures", "--json", "--limit", "10", "--url", server.url]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(page);
    const byId = await runCliToEnd(["failures", "Fragile/a", "--url", server.url]);
    expect(byId).toMatchObject({ code: 2, stderr: expect.stringContaining("list its type: durable-entities failures Fragile") });
  });

  it("lists failures in pages, newest first, and refuses a bad request with bad_request", async () => {
    for (let n = 1; n <= 3; n++) await client.call("Sender/s", "send", { to: `Fragile/${n}`, n });
    await expect.poll(async () => (await client.failures()).failures.length).toBe(3);
    const first = await client.failures({ limit: 2 });
    expect(first.failures.map((f) => f.input)).toEqual([{ n: 3 }, { n: 2 }]);
    expect(first.next).toBeDefined();
    expect(await client.failures({ limit: 2, before: first.next! })).toEqual({ failures: [expect.objectContaining({ input: { n: 1 } })] });
    const older = await runCliToEnd(["failures", "--limit", "2", "--url", server.url]);
    expect(older.stderr).toBe(`2 failed signals; older ones with --before ${first.next}\n`);

    const peer = await RawSocket.greeted(server.port);
    peer.send([
      { type: "failures", id: 1, limit: 0 },
      { type: "failures", id: 2, entityType: "Fragile/a" },
      { type: "failures", id: 3, entityType: "Fragile", limit: 1 },
    ]);
    const answer = await peer.waitFor((f) => f.id === 3);
    expect(answer).toMatchObject({ type: "result", value: { failures: [expect.objectContaining({ input: { n: 3 } })], next: expect.any(Number) } });
    expect(peer.frames.find((f) => f.type === "error")).toMatchObject({ code: "bad_request", ids: [1, 2] });
    peer.socket.close();
  });
});
