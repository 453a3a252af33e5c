/**
 * `orchestration-latency`: the demo's three-activity `HelloSequence`, one instance at a time on one
 * connection, from sending its `start` (with its `watch`, in the same message) to receiving its
 * Completed status; 200 warm-up instances first (quick: 100), then 10 s of them (quick: 3 s). Also
 * reports the disk's flush floor (fsync-floor.ts), measured right after: every step of the chain
 * (the start, each activity's result) waits for a durable commit.
 */
import { quantileOf } from "../histogram.js";
import { atMost, info, round, type ScenarioResult } from "../report.js";
import { HELLO_SEQUENCE_OUTPUT } from "../apps/expected-outputs.js";
import { measureFsyncFloor } from "../fsync-floor.js";
import { ORCHESTRATION_APP, runOrchestrationLoad } from "./orchestration-run.js";
import type { Scenario } from "./scenario.js";

const NAME = "orchestration-latency";

/** The sequential latency scenario. */
export const orchestrationLatency: Scenario = {
  name: NAME,
  usesDriver: true,
  app: ORCHESTRATION_APP,
  async run({ server, quick, driver }): Promise<ScenarioResult> {
    const spec = { perRound: 1, expectedOutput: HELLO_SEQUENCE_OUTPUT };
    const run = await runOrchestrationLoad(NAME, server, {
      driver,
      connections: 1,
      name: "HelloSequence",
      warmup: { ...spec, rounds: quick ? 100 : 200 },
      measured: { ...spec, rounds: Number.MAX_SAFE_INTEGER },
      durationMs: quick ? 3_000 : 10_000,
      roundTimeoutMs: 10_000,
    });
    const { done } = run;
    // Right after the load, with the server idle: what one flush costs on this disk now.
    const fsync = measureFsyncFloor();
    const latencies = done.completionMs;
    const p50 = quantileOf(latencies, 0.5);
    const p99 = quantileOf(latencies, 0.99);
    const max = latencies[latencies.length - 1] ?? Number.NaN;
    const mean = latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length;
    const durableP50 = quantileOf(done.durableStartMs, 0.5);
    const perSec = done.completed / (done.elapsedMs / 1000);
    return {
      scenario: NAME,
      variant: driver,
      figures: [
        atMost("p50", p50, "ms", 5),
        info("p99", p99, "ms"),
        info("max", max, "ms"),
        info("start to durable (result), p50", durableP50, "ms"),
        info("orchestrations/s, one at a time", perSec, "/s"),
        info("disk flush floor (4 KiB write + fdatasync), p50", fsync.p50, "ms"),
        info("disk flush floor, p99", fsync.p99, "ms"),
        ...run.serverFigures,
      ],
      failures: run.failures,
      json: {
        p50Ms: round(p50, 3),
        p99Ms: round(p99, 3),
        maxMs: round(max, 3),
        meanMs: round(mean, 3),
        durableStartP50Ms: round(durableP50, 3),
        fsyncFloorP50Ms: round(fsync.p50, 3),
        fsyncFloorP99Ms: round(fsync.p99, 3),
        orchestrations: done.completed,
        orchestrationsPerSec: Math.round(perSec),
        driver,
        ...run.serverCpu.json,
        serverJsThreadWaitPct: run.jsThreadWaitPct === undefined ? undefined : round(run.jsThreadWaitPct, 0),
        serverRssMb: round(run.rssMb, 0),
        verified: run.failures.length === 0,
      },
      notes: [],
      profileWindowUs: run.profileWindowUs,
    };
  },
};
