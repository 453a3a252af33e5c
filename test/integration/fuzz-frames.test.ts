import fc from "fast-check";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import { fuzzSession } from "./support/fuzz-messages.js";
import { WAITING_INSTANCE, type FuzzMessage, type FuzzSession } from "./support/fuzz-model.js";
import { FuzzPeer } from "./support/fuzz-peer.js";
import { answerProblems, fuzzRequest, render, unanswered } from "./support/fuzz-requests.js";
import { parseResponse, rawExchange } from "./support/raw-http.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";
import { tempDataDir, TRANSPORTS } from "./support/test-server.js";

/**
 * Fuzzing the server's two front doors, with authentication on: tens of thousands of malformed
 * WebSocket messages and thousands of random HTTP requests, while correct requests keep going. The
 * server is the real CLI (`serve --auth`) in its own process, so a crash is seen as its exit.
 *
 * The seed is printed; FUZZ_SEED=<seed> runs the same messages and requests again.
 */

const APP = new URL("../fixtures/fuzz-app.ts", import.meta.url).pathname;
/** A smaller message limit than the default, so that messages near it stay cheap. */
const LIMIT = 128 * 1024;
const ADMIN = "fuzz-admin-token-0123456789";
const APP_TOKEN = "fuzz-app-token-0123456789";
const TOKENS = {
  tokens: {
    [ADMIN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }, { orchestrations: "*", actions: ["*"] }] },
    [APP_TOKEN]: { name: "app", grants: [{ entities: "Counter/*", actions: ["signal", "call", "read"] }] },
  },
};
const SESSIONS = 42;
const MESSAGES_PER_SESSION = 300;
/** On the fuzzed connection, a check signal after every this many messages (and a get at the end). */
const CHECK_EVERY = 20;
/** Signals the healthy connection sends (then a get) while each session runs. */
const HEALTHY_SIGNALS = 20;
const MALFORMED_AT_LEAST = 10_000;
const HTTP_REQUESTS = 2_500;
const HTTP_CONCURRENCY = 8;
const SEED = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);

/** A message the server must refuse, at least in part: an error for it, or a close. */
function malformed(message: FuzzMessage): boolean {
  return message.idless.length > 0 || message.closes !== undefined || message.expects.some((expect) => expect !== "ok" && expect !== "any");
}

describe.each(TRANSPORTS)("fuzzing a server with authentication over %s", (transport) => {
  let dir: ReturnType<typeof tempDataDir>;
  let server: Awaited<ReturnType<typeof startServerProcess>>;
  let port: number;
  let admin: DurableClient;

  // A server of its own for each test: a crash in one does not decide the other.
  beforeEach(async () => {
    dir = tempDataDir();
    const tokens = join(dir.path, "tokens.json");
    writeFileSync(tokens, JSON.stringify(TOKENS));
    mkdirSync(join(dir.path, "data"));
    server = await startServerProcess(["--app", APP, "--data", join(dir.path, "data"), "--port", "0", "--transport", transport, "--auth", tokens, "--max-message-bytes", String(LIMIT)]);
    port = Number(new URL(server.url).port);
    admin = await connect(server.url, { token: ADMIN, clientId: `fuzz-healthy-${transport}` });
    await admin.start("ApprovalWorkflow", null, { instanceId: WAITING_INSTANCE });
  });

  afterEach(async () => {
    await admin?.close();
    if (server) await killAndWait(server.child);
    dir?.cleanup();
  });

  /** Why to stop: the server process ended. */
  function serverGone(): string | undefined {
    const { exitCode, signalCode } = server.child;
    if (exitCode === null && signalCode === null) return undefined;
    const errors = errorLog();
    return `the server exited (code ${exitCode}, signal ${signalCode}); ${errors.length > 0 ? `its errors: ${errors.join("\n")}` : `its log ends: ${server.stderr().slice(-1_500)}`}`;
  }

  /** The server's log lines at level error (none is expected: bad input is the client's problem). */
  function errorLog(): string[] {
    return server
      .stderr()
      .split("\n")
      .filter((line) => line.includes('"level":"error"'))
      .map((line) => line.slice(0, 1_000));
  }

  /** Correct requests on a connection of their own: signals, then a get that must see them all. */
  async function healthyRound(entity: string): Promise<void> {
    const acks = Promise.all(Array.from({ length: HEALTHY_SIGNALS }, () => admin.signal(entity, "add", 1)));
    acks.catch(() => {}); // a failure shows below (or in the get)
    const value = await admin.get(entity);
    await acks;
    if (value !== HEALTHY_SIGNALS) throw new Error(`the healthy connection read ${entity} as ${value} after ${HEALTHY_SIGNALS} signals`);
  }

  it(`answers at least ${MALFORMED_AT_LEAST.toLocaleString("en")} malformed messages, each with a coded error or a documented close, and keeps serving`, async () => {
    console.log(`fuzz-frames (${transport}): seed ${SEED}; FUZZ_SEED=${SEED} replays it`);
    let sessions = 0;
    let sent = 0;
    let refused = 0;
    const closes: Record<string, number> = {};

    const runSession = async (session: FuzzSession): Promise<void> => {
      const n = sessions++;
      const peer = await FuzzPeer.open(port, session.principal === "admin" ? ADMIN : APP_TOKEN, LIMIT);
      try {
        for (const message of session.beforeHello) peer.send(message);
        await peer.hello(`fuzz-${transport}-${n}`);
        // Settled (never left to reject unhandled) so that a failing session reports its own problems.
        const healthy = healthyRound(`Counter/healthy-${transport}-${n}`).then(
          () => undefined,
          (error: unknown) => `the healthy connection: ${(error as Error).message}`,
        );
        const check = `Counter/check-${transport}-${n}`;
        let checks = 0;
        session.messages.forEach((message, i) => {
          peer.send(message);
          if (i % CHECK_EVERY === 0) {
            peer.request({ type: "signal", entity: check, op: "add", input: 1 });
            checks++;
          }
        });
        const read = peer.request({ type: "get", entity: check });
        await peer.settle(60_000, serverGone);
        const problems: string[] = [];
        if (peer.valueOf(read) !== checks) problems.push(`the fuzzed connection read ${check} as ${JSON.stringify(peer.valueOf(read))} after ${checks} acknowledged signals`);
        if (session.terminal) {
          peer.send(session.terminal);
          const code = await peer.closed(15_000);
          const allowed = session.terminal.closes![transport];
          closes[`${code}`] = (closes[`${code}`] ?? 0) + 1;
          if (code === undefined || !allowed.includes(code)) problems.push(`after ${fc.stringify(session.terminal)} the connection closed with ${code}, not ${allowed.join(" or ")}`);
        } else if (peer.closeCode !== undefined) {
          problems.push(`the connection closed (${peer.closeCode}) though nothing sent should close it`);
        }
        problems.push(...peer.check());
        const unhealthy = await healthy;
        if (unhealthy) problems.push(unhealthy);
        const all = [...session.beforeHello, ...session.messages, ...(session.terminal ? [session.terminal] : [])];
        sent += all.length;
        refused += all.filter(malformed).length;
        if (problems.length > 0) throw new Error(`session ${n} (${session.principal}): ${problems.length} problems:\n${problems.slice(0, 20).join("\n")}`);
      } finally {
        peer.close();
      }
      const gone = serverGone();
      if (gone) throw new Error(gone);
    };

    const sessionsArb = fuzzSession(MESSAGES_PER_SESSION, LIMIT).map((session) =>
      Object.assign(session, { [fc.toStringMethod]: () => `a session of ${session.principal}: ${session.beforeHello.length} + ${session.messages.length} messages${session.terminal ? `, then ${fc.stringify(session.terminal)}` : ""}` }),
    );
    // No shrinking: the server's state moves on between runs, so a smaller run is not the same experiment.
    await fc.assert(fc.asyncProperty(sessionsArb, runSession), { numRuns: SESSIONS, seed: SEED, endOnFailure: true });

    console.log(`fuzz-frames (${transport}): ${sent} messages in ${sessions} sessions, ${refused} of them malformed; connections closed by code: ${JSON.stringify(closes)}`);
    expect(refused).toBeGreaterThanOrEqual(MALFORMED_AT_LEAST);
    expect(serverGone()).toBeUndefined();
    expect(errorLog()).toEqual([]);
    // Still serving, on a fresh connection.
    await healthyRound(`Counter/healthy-${transport}-after`);
  }, 300_000);

  it(`answers ${HTTP_REQUESTS.toLocaleString("en")} random HTTP requests with JSON errors and 4xx statuses, never 5xx or a stack trace, and keeps serving`, async () => {
    console.log(`fuzz-http (${transport}): seed ${SEED}; FUZZ_SEED=${SEED} replays it`);
    const host = `127.0.0.1:${port}`;
    const requests = fc.sample(fuzzRequest({ admin: ADMIN, app: APP_TOKEN }, `http://${host}`), { numRuns: HTTP_REQUESTS, seed: SEED });
    const problems: string[] = [];
    const statuses: Record<string, number> = {};
    let next = 0;
    let rounds = 0;
    const correctRound = async (): Promise<void> => {
      const round = rounds++;
      await healthyRound(`Counter/http-healthy-${transport}-${round}`);
      const health = parseResponse((await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 10_000)).reply);
      if (health.status !== 200 || JSON.parse(health.body).status !== "ok") problems.push(`GET /healthz answered ${health.status} ${health.body.slice(0, 200)}`);
      const entity = `/runtime/webhooks/durabletask/entities/Counter/http-check-${transport}-${round}`;
      for (let i = 0; i < 3; i++) {
        const signal = parseResponse((await rawExchange(port, `POST ${entity}?op=add HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 1\r\nConnection: close\r\n\r\n2`, 10_000)).reply);
        if (signal.status !== 202) problems.push(`a correct signal over HTTP answered ${signal.status} ${signal.body.slice(0, 200)}`);
      }
      const read = parseResponse((await rawExchange(port, `GET ${entity} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${ADMIN}\r\nConnection: close\r\n\r\n`, 10_000)).reply);
      if (read.status !== 200 || read.body !== "6") problems.push(`a correct read over HTTP answered ${read.status} ${read.body.slice(0, 200)} after three signals adding 2`);
    };
    const worker = async (): Promise<void> => {
      for (let i = next++; i < requests.length; i = next++) {
        const request = requests[i]!;
        const exchange = await rawExchange(port, render(request, host), 15_000);
        const status = exchange.reply === "" ? (unanswered(transport, request) ? "no reply (uWebSockets.js: method)" : "no reply") : exchange.reply.slice(9, 12);
        statuses[status] = (statuses[status] ?? 0) + 1;
        for (const problem of answerProblems(transport, request, exchange)) problems.push(`${fc.stringify(request)}: ${problem}`);
        const gone = serverGone();
        if (gone) throw new Error(`${gone}; the last request: ${fc.stringify(request)}`);
        if (i % 100 === 99) await correctRound();
      }
    };
    await Promise.all(Array.from({ length: HTTP_CONCURRENCY }, worker));
    await correctRound();
    console.log(`fuzz-http (${transport}): ${requests.length} requests, ${rounds} rounds of correct requests; answers by status: ${JSON.stringify(Object.entries(statuses).sort())}`);
    expect(problems.slice(0, 30), `${problems.length} problems`).toEqual([]);
    expect(serverGone()).toBeUndefined();
    expect(errorLog()).toEqual([]);
  }, 300_000);
});
