/**
 * Load process for the orchestration scenarios: rounds of instances of one orchestration, each round
 * started at once (spread over `connections`, see orchestration-lanes.ts for what each sends) and
 * awaited until every instance finished. A sequential latency run is rounds of one; a burst is one
 * round of many. Warm-up rounds first (not measured), then `ready`; after `go`, measured rounds until
 * `measured.rounds` or `durationMs`.
 */
import { randomUUID } from "node:crypto";
import { cpuSeconds, next, runWorker, send } from "./ipc.js";
import { clientLane, rawLane, type InstanceStart, type OrchestrationLane } from "./orchestration-lanes.js";
import { OrchestrationRound, Problems, type ProblemList } from "./orchestration-round.js";

/** A batch of rounds: how many, how many instances each, with what input and expected output. */
export interface RoundsSpec {
  readonly rounds: number;
  readonly perRound: number;
  readonly input?: unknown;
  readonly expectedOutput: unknown;
}

/** What the runner sends first. */
export interface OrchestrationLoadConfig {
  readonly url: string;
  /** What the load speaks: the raw protocol (`start` + `watch` frames) or the real client (`start`, then `waitForCompletion`). */
  readonly driver: "client" | "raw";
  readonly connections: number;
  /** The orchestration to start. */
  readonly name: string;
  readonly warmup: RoundsSpec;
  /** The measured rounds (`rounds` is the most; `durationMs` ends them earlier). */
  readonly measured: RoundsSpec;
  readonly durationMs: number;
  /** A round not finished in this time fails its unfinished instances. */
  readonly roundTimeoutMs: number;
}

/** What the worker reports when done. */
export interface OrchestrationLoadDone {
  /** Start sent to Completed received, ms, of every completed instance of the measured rounds. */
  readonly completionMs: number[];
  /** Start sent to its `result` (durable), ms. */
  readonly durableStartMs: number[];
  /** First start sent to last instance finished, per measured round, ms. */
  readonly roundMs: number[];
  readonly started: number;
  readonly completed: number;
  /** Completed instances whose output was not the expected one (a few examples, and how many). */
  readonly wrongOutputs: ProblemList;
  /** Instances that failed, were refused, or did not finish in time. */
  readonly failures: ProblemList;
  readonly elapsedMs: number;
  readonly cpuSeconds: number;
}

runWorker(async () => {
  const config = await next<OrchestrationLoadConfig>("config");
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const wrong = new Problems();
  const failed = new Problems();
  const lanes: OrchestrationLane[] = [];
  for (let c = 0; c < config.connections; c++) {
    const label = `connection ${c}`;
    lanes.push(config.driver === "client" ? await clientLane(config.url, label, config.roundTimeoutMs) : await rawLane(config.url, label));
  }
  let roundNumber = 0;

  /** Starts `spec.perRound` instances at once, spread over the lanes, and waits until all finished. */
  const runRound = async (spec: RoundsSpec): Promise<OrchestrationRound> => {
    const round = new OrchestrationRound(JSON.stringify(spec.expectedOutput), wrong, failed);
    const r = roundNumber++;
    lanes.forEach((lane, c) => {
      const mine: InstanceStart[] = [];
      for (let i = c; i < spec.perRound; i += lanes.length) mine.push({ instanceId: `${prefix}-${r}-${i}`, input: spec.input });
      if (mine.length > 0) lane.start(config.name, mine, round);
    });
    const timer = setTimeout(() => round.abandon(`did not finish within ${config.roundTimeoutMs} ms`, performance.now()), config.roundTimeoutMs + 1_000);
    await round.finished;
    clearTimeout(timer);
    return round;
  };

  for (let i = 0; i < config.warmup.rounds; i++) await runRound(config.warmup);
  send({ type: "ready" });
  await next("go");

  const cpuBefore = cpuSeconds();
  const startedAt = performance.now();
  const completionMs: number[] = [];
  const durableStartMs: number[] = [];
  const roundMs: number[] = [];
  let started = 0;
  let completed = 0;
  for (let i = 0; i < config.measured.rounds && performance.now() - startedAt < config.durationMs; i++) {
    const round = await runRound(config.measured);
    const latencies = round.latencies();
    for (const ms of latencies.completion) completionMs.push(ms);
    for (const ms of latencies.durableStart) durableStartMs.push(ms);
    roundMs.push(round.lastFinishedAt - round.firstSentAt);
    started += config.measured.perRound;
    completed += round.completed;
  }
  const done: OrchestrationLoadDone = {
    completionMs,
    durableStartMs,
    roundMs,
    started,
    completed,
    wrongOutputs: wrong,
    failures: failed,
    elapsedMs: performance.now() - startedAt,
    cpuSeconds: cpuSeconds() - cpuBefore,
  };
  send({ type: "done", ...done });
  await Promise.all(lanes.map((lane) => lane.close()));
});
