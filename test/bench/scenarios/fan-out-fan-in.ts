/**
 * `fan-out-fan-in`: the demo's `FanOutFanIn` with input 10,000 (F1 lists 1..10,000, 10,000 F2 run in
 * parallel, F3 gets the sum), one instance, from sending its `start` to receiving its Completed
 * status; the output must be 333,383,335,000. A `FanOutFanIn(100)` warms the server up first.
 */
import { atMost, info, round, type ScenarioResult } from "../report.js";
import { fanOutFanInOutput } from "../apps/expected-outputs.js";
import { ORCHESTRATION_APP, runOrchestrationLoad } from "./orchestration-run.js";
import type { Scenario } from "./scenario.js";

const NAME = "fan-out-fan-in";
const INPUT = 10_000;

/** The fan-out/fan-in scenario. */
export const fanOutFanIn: Scenario = {
  name: NAME,
  usesDriver: true,
  app: ORCHESTRATION_APP,
  async run({ server, driver }): Promise<ScenarioResult> {
    const run = await runOrchestrationLoad(NAME, server, {
      driver,
      connections: 1,
      name: "FanOutFanIn",
      warmup: { rounds: 1, perRound: 1, input: 100, expectedOutput: fanOutFanInOutput(100) },
      measured: { rounds: 1, perRound: 1, input: INPUT, expectedOutput: fanOutFanInOutput(INPUT) },
      durationMs: Number.POSITIVE_INFINITY,
      roundTimeoutMs: 300_000,
    });
    const { done } = run;
    const seconds = (done.completionMs[0] ?? Number.NaN) / 1000;
    // F1, 10,000 F2 and F3.
    const activities = INPUT + 2;
    return {
      scenario: NAME,
      variant: driver,
      figures: [
        atMost("start to completed", seconds, "s", 5),
        info("activities/s", activities / seconds, "/s"),
        info("start to durable (result)", done.durableStartMs[0] ?? Number.NaN, "ms"),
        ...run.serverFigures,
      ],
      failures: run.failures,
      json: {
        completedSeconds: round(seconds, 3),
        input: INPUT,
        activities,
        activitiesPerSec: Math.round(activities / seconds),
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
