/**
 * Load process for the transfer scenarios: the demo's `Transfer` orchestration (lock two accounts,
 * read, withdraw, deposit, release) kept at `inFlight` instances at all times over `connections`
 * connections (a closed loop: each completion starts the next). Seeds the accounts first with the
 * real client; runs `warmupMs` (not measured), then `ready`; after `go`, `durationMs` measured, then
 * lets the transfers in flight finish and checks the books: every transfer completed, and each
 * account holds its seed plus what the completed transfers moved.
 *
 * `driver: "raw"` sends each `start` with its `watch` in one message (and the previous instance's
 * `unwatch`), reading Completed from the `instance` frames; `"client"` calls `client.start`, then
 * `client.waitForCompletion`.
 */
import { randomUUID } from "node:crypto";
import { connect, type DurableClient } from "../../../clients/index.js";
import { cpuSeconds, next, runWorker, send } from "./ipc.js";
import { RawOrchestrationConnection, type RawInstanceStatus, type RequestFrame } from "./raw-orchestration-connection.js";

export interface TransferLoadConfig {
  readonly url: string;
  readonly driver: "client" | "raw";
  readonly connections: number;
  /** Accounts `Account/<prefix>0..N-1`. */
  readonly accounts: number;
  /** With a hot account, every transfer moves money from or to `Account/<prefix>hot`. */
  readonly hot: boolean;
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** A transfer not finished in this time counts as failed (and the run ends). */
  readonly timeoutMs: number;
}

export interface TransferLoadDone {
  /** Start sent to Completed received (ms) of the transfers started in the measured window. */
  readonly latencyMs: number[];
  /** Transfers that completed within the measured window (whenever started). */
  readonly completedInWindow: number;
  readonly windowMs: number;
  /** Every transfer of the run (warm-up, window, drain): started, completed, and completed with ok: false (short of funds). */
  readonly started: number;
  readonly completed: number;
  readonly refused: number;
  readonly failures: { count: number; examples: string[] };
  readonly cpuSeconds: number;
}

interface TransferInput {
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}

interface Pending {
  readonly input: TransferInput;
  readonly sentAt: number;
  readonly lane: number;
}

const SEED = 1_000_000;
const FINISHED = new Set(["Completed", "Failed", "Terminated"]);

/** One connection: starts transfers, reports when each finished. */
interface Lane {
  start(instanceId: string, input: TransferInput): void;
  close(): Promise<void> | void;
}

runWorker(async () => {
  const config = await next<TransferLoadConfig>("config");
  const prefix = `b${randomUUID().slice(0, 6)}-`;
  const account = (key: string | number) => `${prefix}${key}`;
  const hotKey = account("hot");
  const keys = Array.from({ length: config.accounts }, (_, i) => account(i));
  if (config.hot) keys.push(hotKey);

  // Seed every account (durable before the load starts).
  const checker = await connect(config.url, { clientId: "bench-transfers-seed" });
  await Promise.all(keys.map((key) => checker.signal(`Account/${key}`, "deposit", SEED)));

  let seq = 0;
  let random = 0x2545f491;
  const nextRandom = (n: number) => {
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return (random >>> 0) % n;
  };
  const newTransfer = (): TransferInput => {
    const amount = 1 + nextRandom(100);
    if (config.hot) {
      const other = account(nextRandom(config.accounts));
      return nextRandom(2) === 0 ? { from: hotKey, to: other, amount } : { from: other, to: hotKey, amount };
    }
    const from = nextRandom(config.accounts);
    const to = (from + 1 + nextRandom(config.accounts - 1)) % config.accounts;
    return { from: account(from), to: account(to), amount };
  };

  const pending = new Map<string, Pending>();
  const balances = new Map<string, number>(keys.map((key) => [key, SEED]));
  const failures = { count: 0, examples: [] as string[] };
  const fail = (message: string) => {
    failures.count++;
    if (failures.examples.length < 5) failures.examples.push(message);
  };
  let phase: "warmup" | "measured" | "drain" = "warmup";
  let windowStart = 0;
  let windowEnd = Number.POSITIVE_INFINITY;
  const latencyMs: number[] = [];
  let completedInWindow = 0;
  let started = 0;
  let completed = 0;
  let refused = 0;
  let idle: () => void = () => {};

  const finished = (instanceId: string, status: RawInstanceStatus | null, at: number) => {
    const transfer = pending.get(instanceId);
    if (transfer === undefined || status === null || !FINISHED.has(status.runtimeStatus)) return;
    pending.delete(instanceId);
    if (status.runtimeStatus !== "Completed") {
      fail(`${instanceId} ended ${status.runtimeStatus}: ${JSON.stringify(status.failureDetails)}`);
    } else {
      completed++;
      const output = status.output as { ok?: boolean; fromBalance?: number } | null;
      if (output?.ok === true) {
        balances.set(transfer.input.from, balances.get(transfer.input.from)! - transfer.input.amount);
        balances.set(transfer.input.to, balances.get(transfer.input.to)! + transfer.input.amount);
      } else if (output?.ok === false) refused++;
      else fail(`${instanceId} returned ${JSON.stringify(output)}`);
      if (at >= windowStart && at <= windowEnd) completedInWindow++;
      if (transfer.sentAt >= windowStart && transfer.sentAt <= windowEnd) latencyMs.push(at - transfer.sentAt);
    }
    if (phase !== "drain" && failures.count === 0) startOne(transfer.lane);
    else if (pending.size === 0) idle();
  };

  const lanes: Lane[] = [];
  for (let c = 0; c < config.connections; c++) {
    lanes.push(config.driver === "raw" ? await rawLane(config.url, finished, fail) : await clientLane(config.url, config.timeoutMs, finished));
  }
  const startOne = (lane: number) => {
    const instanceId = `${prefix}t${seq++}`;
    const input = newTransfer();
    pending.set(instanceId, { input, sentAt: performance.now(), lane });
    started++;
    lanes[lane]!.start(instanceId, input);
  };
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const [instanceId, transfer] of pending) {
      if (now - transfer.sentAt > config.timeoutMs) finished(instanceId, { runtimeStatus: "Failed", failureDetails: { message: `not finished within ${config.timeoutMs} ms (deadlock?)` } }, now);
    }
  }, 1_000);

  for (let i = 0; i < config.inFlight; i++) startOne(i % lanes.length);
  await new Promise((resolve) => setTimeout(resolve, config.warmupMs));
  send({ type: "ready" });
  await next("go");
  const cpuBefore = cpuSeconds();
  phase = "measured";
  windowStart = performance.now();
  await new Promise((resolve) => setTimeout(resolve, config.durationMs));
  windowEnd = performance.now();
  phase = "drain";
  if (pending.size > 0) await new Promise<void>((resolve) => (idle = resolve));
  clearInterval(watchdog);
  const cpu = cpuSeconds() - cpuBefore;

  // The books: each account holds its seed plus what the completed transfers moved; nothing negative.
  const actual = await Promise.all(keys.map((key) => checker.call<number>(`Account/${key}`, "get")));
  let wrong = 0;
  keys.forEach((key, i) => {
    if (actual[i] !== balances.get(key)) {
      wrong++;
      if (wrong <= 3) fail(`Account/${key} holds ${actual[i]}, but the completed transfers leave ${balances.get(key)}`);
    }
    if ((actual[i] ?? 0) < 0) fail(`Account/${key} is negative: ${actual[i]}`);
  });
  if (wrong > 3) fail(`… and ${wrong - 3} more accounts differ`);
  const total = actual.reduce((sum, balance) => sum + balance, 0);
  if (total !== keys.length * SEED) fail(`the accounts hold ${total} in all, not ${keys.length * SEED}`);
  await checker.close();

  const done: TransferLoadDone = { latencyMs, completedInWindow, windowMs: windowEnd - windowStart, started, completed, refused, failures, cpuSeconds: cpu };
  send({ type: "done", ...done });
  await Promise.all(lanes.map((lane) => lane.close()));
});

type Finished = (instanceId: string, status: RawInstanceStatus | null, at: number) => void;

/** Raw protocol: `[unwatch previous?, start, watch]` per transfer, in one message. */
async function rawLane(url: string, finished: Finished, fail: (message: string) => void): Promise<Lane> {
  const done: string[] = [];
  const connection = await RawOrchestrationConnection.open(url, randomUUID(), {
    instance: (instanceId, status, at) => {
      if (status !== null && FINISHED.has(status.runtimeStatus)) done.push(instanceId);
      finished(instanceId, status, at);
    },
    result: () => {},
    error: (_ids, message) => fail(`error frame: ${message}`),
    closed: (code) => fail(`connection closed (${code})`),
  });
  return {
    start(instanceId, input) {
      const frames: RequestFrame[] = done.splice(0).map((id) => ({ type: "unwatch" as const, instanceId: id }));
      frames.push({ type: "start", name: "Transfer", instanceId, input }, { type: "watch", instanceId });
      connection.send(frames);
    },
    close: () => connection.close(),
  };
}

/** The real client: `client.start`, then `client.waitForCompletion`. */
async function clientLane(url: string, timeoutMs: number, finished: Finished): Promise<Lane> {
  const client: DurableClient = await connect(url, { clientId: "bench-transfers" });
  return {
    start(instanceId, input) {
      client
        .start("Transfer", input, { instanceId })
        .then(() => client.waitForCompletion(instanceId, { timeoutMs }))
        .then(
          (status) => finished(instanceId, status as RawInstanceStatus, performance.now()),
          (error: unknown) => finished(instanceId, { runtimeStatus: "Failed", failureDetails: { message: error instanceof Error ? error.message : String(error) } }, performance.now()),
        );
    },
    close: () => client.close(),
  };
}
