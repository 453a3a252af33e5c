import { afterEach, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { connect, type DurableClient } from "../../clients/index.js";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";
import { until } from "./support/until.js";

const APP = new URL("../fixtures/crash-app.ts", import.meta.url).pathname;
const ROUNDS = 10;
const LEDGERS = 50;
/** Generous: the process should end within a few seconds; a hung one never does. */
const EXIT_BOUND_MS = 20_000;

describe("an uncaught exception while an LMDB commit is in flight (the exit hang of issue 7)", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it(`ends the process every time (${ROUNDS} rounds), and a new server on the data has every acknowledged signal exactly once`, async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const acked: string[] = [];

    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServerProcess(["--app", APP, "--data", dir.path, "--port", String(await freePort())]);
      cleanups.push(() => killAndWait(server.child)); // a hung process is killed, never left behind
      const exited = exitOf(server.child);
      const client = await connect(server.url, { clientId: `fatal-round-${round}`, disconnectTimeoutMs: 1_000 });
      cleanups.push(() => client.close());

      const load = signalLoad(client, `r${round}`, acked);
      const ackedBefore = acked.length;
      await until(() => acked.length >= ackedBefore + 1_000, 20_000); // commits are flowing
      await load.crash(); // its tick's commit is in flight when the exception is thrown
      const outcome = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve("still running"), EXIT_BOUND_MS).unref())]);
      if (outcome === "still running") await killAndWait(server.child); // fails below; the client need not wait on a hung server
      await client.close();
      await load.stop();

      expect(outcome, `round ${round}; stderr:\n${server.stderr()}`).toMatch(/^(code 1|signal SIGKILL)$/);
      expect(server.stderr()).toContain("fatal error; exiting");
    }

    // A new server starts on the same data directory (the lock and port were let go) and has each acknowledged signal once.
    const server = await startServerProcess(["--app", APP, "--data", dir.path, "--port", String(await freePort())]);
    cleanups.push(() => killAndWait(server.child));
    const client = await connect(server.url, { clientId: "fatal-check" });
    cleanups.push(() => client.close());
    const counts = new Map<string, number>();
    for (let l = 0; l < LEDGERS; l++) {
      const ledger = (await client.get<Record<string, number>>(`Ledger/l${l}`)) ?? {};
      for (const [tag, count] of Object.entries(ledger)) counts.set(tag, count);
    }
    expect([...counts].filter(([, count]) => count !== 1)).toEqual([]); // nothing applied twice
    expect(acked.filter((tag) => counts.get(tag) !== 1)).toEqual([]); // nothing acknowledged lost
  }, 240_000); // eleven server starts: seconds each on a busy machine
});

/** How a child process ended: `code N` or `signal NAME`. */
function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal === null ? `code ${code}` : `signal ${signal}`)));
}

/**
 * Signals over 50 ledgers, each with a unique tag, in bursts of 500 with up to 4 bursts unanswered
 * (the server always has work, and never a growing backlog), until stopped; acknowledged tags go to
 * `acked`. `crash()` sends the crashing operation in the middle of the next burst, and resolves once
 * it is sent.
 */
function signalLoad(client: DurableClient, prefix: string, acked: string[]): { crash(): Promise<void>; stop(): Promise<void> } {
  let stopped = false;
  let crashRequested = false;
  let crashSent!: () => void;
  const sent = new Promise<void>((resolve) => (crashSent = resolve));
  const running = (async () => {
    const unanswered: Array<Promise<unknown>> = [];
    for (let i = 0; !stopped; ) {
      const burst: Array<Promise<void>> = [];
      for (let k = 0; k < 500; k++, i++) {
        if (crashRequested && k === 250) {
          crashRequested = false;
          client.signal("Crasher/c", "crash").catch(() => {});
          crashSent();
        }
        const tag = `${prefix}-t${i}`;
        burst.push(client.signal(`Ledger/l${i % LEDGERS}`, "record", tag).then(() => void acked.push(tag), () => {}));
      }
      unanswered.push(Promise.all(burst)); // settles once each is acknowledged, or failed (the server gone, the client closed)
      if (unanswered.length >= 4) await unanswered.shift();
      await new Promise((resolve) => setImmediate(resolve)); // failed signals settle in microtasks: let the event loop run
    }
    await Promise.all(unanswered);
  })();
  return {
    crash: () => {
      crashRequested = true;
      return sent;
    },
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}
