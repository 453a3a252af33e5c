/**
 * The measuring loop shared by the live-state sequential caller (`live-caller.ts`) and its
 * round-trip floor probe (`round-trip-probe.ts`): one request at a time, each awaited before the
 * next, timed from its send to its answer, with this process's own timer lateness alongside.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Histogram, type HistogramData } from "../histogram.js";
import { now, sleepUntil } from "./ipc.js";

/** The runner's `go` message: when the calls start, are measured and stop (wall-clock ms). */
export interface SequentialGo {
  /** Calls start here (with the live entity's driver). */
  readonly startAt: number;
  /** Calls sent from here on are in the latency figures (earlier ones are the warm-up). */
  readonly measureFrom: number;
  /** No call is sent from here on. */
  readonly stopAt: number;
}

/** What the loop measured, sent to the runner as the worker's `done` message. */
export interface SequentialResult {
  readonly latencies: HistogramData;
  /** Calls made by the loop, warm-up included. */
  readonly calls: number;
  /** What the last call resolved with. */
  readonly lastResult: number;
  /** [sentAt, ms] of the slowest measured calls, slowest first. */
  readonly slowest: Array<[number, number]>;
  /** How late this process's own 10 ms timer fired: waiting for a core, not for the peer. */
  readonly loopLateP99Ms: number;
  readonly loopLateMaxMs: number;
}

/** How many of the slowest calls are reported (when they were sent, how long they took). */
const SLOWEST = 5;
/** The event-loop delay monitor's timer interval; what it records beyond this is lateness. */
const LOOP_RESOLUTION_MS = 10;

/**
 * Calls `call` one at a time from `go.startAt` until `go.stopAt`. With `periodMs` > 0 a call is sent
 * at most every `periodMs` (a slower one is followed at once); with 0, back to back.
 */
export async function sequentialCalls(call: () => Promise<number>, go: SequentialGo, periodMs = 0): Promise<SequentialResult> {
  await sleepUntil(go.startAt);
  const latencies = new Histogram();
  const slowest: Array<[number, number]> = [];
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  let calls = 0;
  let last = Number.NaN;
  let nextSendAt = go.startAt;
  while (now() < go.stopAt) {
    if (periodMs > 0 && nextSendAt > now()) {
      await sleepUntil(nextSendAt);
      if (now() >= go.stopAt) break;
    }
    const sentAt = now();
    nextSendAt = sentAt + periodMs;
    last = await call();
    const ms = now() - sentAt;
    calls++;
    if (sentAt < go.measureFrom) continue;
    latencies.record(ms);
    if (slowest.length < SLOWEST || ms > slowest[slowest.length - 1]![1]) {
      slowest.push([sentAt, ms]);
      slowest.sort((a, b) => b[1] - a[1]);
      slowest.length = Math.min(slowest.length, SLOWEST);
    }
  }
  loopDelay.disable();
  return {
    latencies: latencies.toJSON(),
    calls,
    lastResult: last,
    slowest,
    loopLateP99Ms: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    loopLateMaxMs: Math.max(0, loopDelay.max / 1e6 - LOOP_RESOLUTION_MS),
  };
}
