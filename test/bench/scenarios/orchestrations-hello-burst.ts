/**
 * `orchestrations-hello-burst`: 2,000 instances of the five-activity `HelloSequence5` started at once
 * (4 connections, each one message of starts and watches), timed until the last one completed. A
 * warm-up burst of 200 goes first; the full run measures 3 bursts (quick: 1), each on fresh ids.
 */
import { quantileOf } from "../histogram.js";
import { atLeast, info, round, type ScenarioResult } from "../report.js";
import { HELLO_SEQUENCE5_OUTPUT } from "../apps/expected-outputs.js";
import { ORCHESTRATION_APP, runOrchestrationLoad } from "./orchestration-run.js";
import type { Scenario } from "./scenario.js";

const NAME = "orchestrations-hello-burst";
const INSTANCES = 2_000;
/** Completed orchestrations per second (Durable Functions on Netherite does about 150/s on 2 cores). */
const TARGET_PER_SEC = 1_500;

/** The burst scenario. */
export const orchestrationsHelloBurst: Scenario = {
  name: NAME,
  usesDriver: true,
  app: ORCHESTRATION_APP,
  async run({ server, quick, driver }): Promise<ScenarioResult> {
    const spec = { perRound: INSTANCES, expectedOutput: HELLO_SEQUENCE5_OUTPUT };
    const run = await runOrchestrationLoad(NAME, server, {
      driver,
      connections: 4,
      name: "HelloSequence5",
      warmup: { ...spec, rounds: 1, perRound: 200 },
      measured: { ...spec, rounds: quick ? 1 : 3 },
      durationMs: Number.POSITIVE_INFINITY,
      roundTimeoutMs: 120_000,
    });
    const { done } = run;
    const totalRoundMs = done.roundMs.reduce((sum, ms) => sum + ms, 0);
    const perSec = done.completed / (totalRoundMs / 1000);
    const bestPerSec = Math.max(...done.roundMs.map((ms) => INSTANCES / (ms / 1000)));
    const p50 = quantileOf(done.completionMs, 0.5);
    const p99 = quantileOf(done.completionMs, 0.99);
    const max = done.completionMs[done.completionMs.length - 1] ?? Number.NaN;
    const durableP50 = quantileOf(done.durableStartMs, 0.5);
    return {
      scenario: NAME,
      variant: driver,
      figures: [
        atLeast("orchestrations/s", perSec, "/s", TARGET_PER_SEC),
        info("burst of 2,000, first start to last completed", totalRoundMs / done.roundMs.length, "ms"),
        info("start to completed, p50", p50, "ms"),
        info("start to completed, p99", p99, "ms"),
        info("start to completed, max", max, "ms"),
        info("start to durable (result), p50", durableP50, "ms"),
        ...run.serverFigures,
      ],
      failures: run.failures,
      json: {
        orchestrationsPerSec: Math.round(perSec),
        bestBurstPerSec: Math.round(bestPerSec),
        bursts: done.roundMs.length,
        instancesPerBurst: INSTANCES,
        burstMs: done.roundMs.map((ms) => round(ms, 0)),
        completed: done.completed,
        completionP50Ms: round(p50, 1),
        completionP99Ms: round(p99, 1),
        completionMaxMs: round(max, 1),
        durableStartP50Ms: round(durableP50, 1),
        connections: 4,
        driver,
        ...run.serverCpu.json,
        serverJsThreadWaitPct: run.jsThreadWaitPct === undefined ? undefined : round(run.jsThreadWaitPct, 0),
        serverRssMb: round(run.rssMb, 0),
        loadCpuPct: round((100 * done.cpuSeconds) / (done.elapsedMs / 1000), 0),
        verified: run.failures.length === 0,
      },
      notes: [],
      profileWindowUs: run.profileWindowUs,
    };
  },
};
