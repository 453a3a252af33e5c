import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import { LAST_HOP } from "../fixtures/relay-app.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";
import { freePort, tempDataDir } from "./support/test-server.js";

/**
 * Bursts of signals from several clients (each with its own client id), to entities that pass them on
 * to other entities (relay-app: Hop/0-k → Hop/1-k → … → Hop/3-k → Tally/all), and to Tally directly,
 * while the server is stopped mid-burst: by SIGKILL at a random moment, ten times over, and by SIGTERM.
 * Every acknowledged signal is applied exactly once, at every hop of its chain; nothing is applied
 * that was not sent; a signal its client gave up on (closed with the server) is applied at most once,
 * and then at every hop.
 *
 * The kill moments come from a seed, printed; CRASH_SEED=<seed> replays them (the machine's timing
 * still varies).
 */

const APP = new URL("../fixtures/relay-app.ts", import.meta.url).pathname;
const LANES = 8;
const SEED = process.env.CRASH_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.CRASH_SEED);

/** mulberry32: a small seeded generator. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Where a signal goes: chained signals start at Hop/0 of their lane, direct ones go to the tally. */
function targetOf(tag: string): { entity: string; op: string } {
  const [, , i] = tag.split(".") as [string, string, string];
  return i.startsWith("d") ? { entity: "Tally/all", op: "count" } : { entity: `Hop/0-${Number(i) % LANES}`, op: "pass" };
}

/** Signals a burst sends together, and the pause between them: a burst lasts a few hundred milliseconds, so a stop lands in it. */
const CHUNK = 2;
const PAUSE_MS = 3;

/** One client's burst: its signals sent a few at a time, each tag remembered as acknowledged or failed. */
class Burst {
  readonly sent: string[] = [];
  readonly acked = new Set<string>();
  readonly failed = new Map<string, string>();
  readonly settled: Promise<void>;

  private constructor(readonly client: DurableClient, tags: string[]) {
    this.settled = this.send(tags);
  }

  private async send(tags: string[]): Promise<void> {
    const outcomes: Array<Promise<void>> = [];
    for (let i = 0; i < tags.length; i += CHUNK) {
      for (const tag of tags.slice(i, i + CHUNK)) {
        this.sent.push(tag);
        const { entity, op } = targetOf(tag);
        outcomes.push(
          this.client.signal(entity, op, tag).then(
            () => void this.acked.add(tag),
            (error: { code?: string }) => void this.failed.set(tag, error.code ?? String(error)),
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    await Promise.all(outcomes);
  }

  static async start(url: string, clientId: string, tags: string[]): Promise<Burst> {
    const client = await connect(url, { clientId, disconnectTimeoutMs: 60_000, maxQueuedRequests: 100_000 });
    return new Burst(client, tags);
  }
}

function tagsFor(prefix: string, chained: number, direct: number): string[] {
  return [...Array.from({ length: chained }, (_, i) => `${prefix}.${i}`), ...Array.from({ length: direct }, (_, i) => `${prefix}.d${i}`)];
}

function ackedCount(bursts: readonly Burst[]): number {
  return bursts.reduce((sum, burst) => sum + burst.acked.size, 0);
}

/** Waits until the bursts together have `target` acknowledgements, then a further 0–3 ms. */
async function untilAcked(bursts: readonly Burst[], target: number, delayMs: number): Promise<void> {
  while (ackedCount(bursts) < target) await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise((resolve) => setTimeout(resolve, delayMs));
}

/**
 * Reads every hop and the tally once the chains in the mailboxes have run to their end, and returns
 * what breaks the guarantees (empty when nothing does).
 */
async function verify(url: string, bursts: readonly Burst[], abandoned: readonly Burst[]): Promise<{ problems: string[]; summary: string }> {
  const reader = await connect(url, { clientId: "crash-cycles-reader" });
  try {
    const read = async () => {
      const tally = (await reader.get<Record<string, number>>("Tally/all")) ?? {};
      const hops: Array<Record<string, number>> = [];
      const misplaced: string[] = [];
      for (let level = 0; level <= LAST_HOP; level++) {
        const merged: Record<string, number> = {};
        for (let lane = 0; lane < LANES; lane++) {
          for (const [tag, count] of Object.entries((await reader.get<Record<string, number>>(`Hop/${level}-${lane}`)) ?? {})) {
            if (targetOf(tag).entity !== `Hop/0-${lane}`) misplaced.push(`${tag} at Hop/${level}-${lane}`);
            merged[tag] = (merged[tag] ?? 0) + count;
          }
        }
        hops.push(merged);
      }
      return { tally, hops, misplaced };
    };
    const chainedIn = (tally: Record<string, number>) => Object.keys(tally).filter((tag) => !targetOf(tag).entity.startsWith("Tally"));
    // The chains finish on their own (the mailboxes carry them across restarts): wait until every hop and the tally hold the same chains.
    let state = await read();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !state.hops.every((hop) => Object.keys(hop).length === Object.keys(state.hops[0]!).length && Object.keys(state.hops[0]!).length === chainedIn(state.tally).length)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      state = await read();
    }
    const { tally, hops, misplaced } = state;
    const problems: string[] = [...misplaced];
    const sent = new Set([...bursts, ...abandoned].flatMap((burst) => burst.sent));
    const places: Array<[string, Record<string, number>]> = [["Tally/all", tally], ...hops.map((hop, level): [string, Record<string, number>] => [`Hop/${level}-*`, hop])];
    for (const [place, counts] of places) {
      for (const [tag, count] of Object.entries(counts)) {
        if (!sent.has(tag)) problems.push(`${tag} at ${place} was never sent`);
        if (count !== 1) problems.push(`${tag} applied ${count} times at ${place}`);
      }
    }
    for (const burst of [...bursts, ...abandoned]) {
      for (const tag of burst.acked) {
        const chained = !targetOf(tag).entity.startsWith("Tally");
        if (tally[tag] !== 1) problems.push(`acknowledged ${tag} is in the tally ${tally[tag] ?? 0} times`);
        if (chained) hops.forEach((hop, level) => hop[tag] !== 1 && problems.push(`acknowledged ${tag} is at hop ${level} ${hop[tag] ?? 0} times`));
      }
    }
    for (const burst of bursts) for (const [tag, code] of burst.failed) problems.push(`${tag} of a client that stayed failed with ${code} (it resends after a restart)`);
    const chains = Object.keys(hops[0]!);
    hops.forEach((hop, level) => Object.keys(hop).length !== chains.length && problems.push(`hop ${level} holds ${Object.keys(hop).length} chains, hop 0 holds ${chains.length}`));
    for (const tag of chains) if (tally[tag] !== 1) problems.push(`${tag} passed hop 0 but reached the tally ${tally[tag] ?? 0} times`);
    const given = abandoned.flatMap((burst) => burst.sent.filter((tag) => !burst.acked.has(tag)));
    const summary = `${sent.size} signals sent, ${ackedCount([...bursts, ...abandoned])} acknowledged, ${given.length} given up by their clients (${given.filter((tag) => tally[tag] === 1).length} of those applied), ${Object.keys(tally).length} in the tally`;
    return { problems, summary };
  } finally {
    await reader.close();
  }
}

describe("a server stopped in the middle of signal bursts from several clients", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function serve(): Promise<{ start(): Promise<{ child: ChildProcess; url: string }>; current(): { child: ChildProcess; url: string } }> {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const args = ["--app", APP, "--data", dir.path, "--port", String(await freePort())];
    let server: { child: ChildProcess; url: string } | undefined;
    cleanups.push(() => (server ? killAndWait(server.child) : undefined));
    return {
      start: async () => (server = await startServerProcess(args)),
      current: () => server!,
    };
  }

  it("10 cycles of a SIGKILL at a random moment and a restart: every acknowledged signal applied exactly once, at every hop, none invented", async () => {
    console.log(`crash-cycles: seed ${SEED}; CRASH_SEED=${SEED} replays the kill moments`);
    const next = random(SEED);
    const server = await serve();
    let { url } = await server.start();
    const stayed: Burst[] = [];
    const abandoned: Burst[] = [];
    const CYCLES = 10;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Three clients that stay across the restart (they resend), one that goes down with the server.
      const bursts = await Promise.all([0, 1, 2, 3].map((k) => Burst.start(url, `crash-c${cycle}-k${k}`, tagsFor(`c${cycle}.k${k}`, 75, 25))));
      const total = 4 * (75 + 25);
      const target = Math.floor(next() * 0.8 * total);
      const delayMs = Math.floor(next() * 4);
      await untilAcked(bursts, target, delayMs);
      await killAndWait(server.current().child, "SIGKILL");
      const ackedAtKill = ackedCount(bursts);
      const sentAtKill = bursts.reduce((n, b) => n + b.sent.length, 0);
      const goner = bursts[3]!;
      await goner.client.close(); // its unacknowledged signals are given up: applied at most once
      await goner.settled;
      ({ url } = await server.start());
      const staying = bursts.slice(0, 3);
      await Promise.all(staying.map((burst) => burst.settled));
      await Promise.all(staying.map((burst) => burst.client.close()));
      stayed.push(...staying);
      abandoned.push(goner);
      console.log(`crash-cycles: cycle ${cycle + 1}: killed with ${sentAtKill} of ${total} signals sent and ${ackedAtKill} acknowledged (aimed at ${target}, +${delayMs} ms)`);
    }
    const { problems, summary } = await verify(url, stayed, abandoned);
    console.log(`crash-cycles: ${summary}`);
    expect(problems.slice(0, 20), `${problems.length} problems (seed ${SEED})`).toEqual([]);
  }, 180_000);

  it("SIGTERM mid-burst: the server exits with code 0, and every signal acknowledged before it exited is applied exactly once after the restart", async () => {
    const next = random(SEED + 1);
    const server = await serve();
    let { url } = await server.start();
    const all: Burst[] = [];
    for (let round = 0; round < 3; round++) {
      const bursts = await Promise.all([0, 1, 2].map((k) => Burst.start(url, `term-r${round}-k${k}`, tagsFor(`t${round}.k${k}`, 100, 30))));
      const total = 3 * (100 + 30);
      await untilAcked(bursts, Math.floor((0.1 + 0.7 * next()) * total), Math.floor(next() * 4));
      const { child } = server.current();
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("exit", (code, signal) => resolve([code, signal])));
      child.kill("SIGTERM");
      const [code, signal] = await exited;
      const ackedBeforeExit = bursts.flatMap((burst) => [...burst.acked]);
      const sentBeforeExit = bursts.reduce((n, b) => n + b.sent.length, 0);
      expect({ code, signal }, `exit after SIGTERM (round ${round})`).toEqual({ code: 0, signal: null });
      expect(ackedBeforeExit.length, "the burst was under way when the server stopped").toBeGreaterThan(0);
      ({ url } = await server.start());
      // The clients resend what was not acknowledged; then everything is checked, the early acknowledgements among it.
      await Promise.all(bursts.map((burst) => burst.settled));
      await Promise.all(bursts.map((burst) => burst.client.close()));
      all.push(...bursts);
      console.log(`crash-cycles: SIGTERM round ${round + 1}: ${sentBeforeExit} of ${total} signals sent and ${ackedBeforeExit.length} acknowledged before the exit`);
      const { problems } = await verify(url, all, []);
      expect(problems.slice(0, 20), `${problems.length} problems after SIGTERM round ${round} (seed ${SEED})`).toEqual([]);
    }
  }, 120_000);
});
