/**
 * `transfers-1000-accounts` and `transfers-hot-account`: the demo's `Transfer` orchestration (a
 * critical section on two accounts: lock, get, withdraw, deposit, release), 64 in flight at all
 * times (a closed loop over 2 connections, `workers/transfer-load.ts`), among 1,000 accounts, or with
 * every transfer touching one hot account (which serialises them all on its lock). Warm-up 2 s
 * (quick: 1 s), then 10 s measured (quick: 3 s); then the transfers in flight finish and the books
 * are checked (every transfer completed; each account holds its seed plus what completed transfers
 * moved). The 1,000-account rate has a target; the hot account's rate is reported only.
 */
import { startWorker } from "../children.js";
import { quantileOf } from "../histogram.js";
import { atLeast, info, monotonicUs, round, type ScenarioResult } from "../report.js";
import { runQueueWaitMeter } from "../run-queue-wait.js";
import type { TransferLoadConfig, TransferLoadDone } from "../workers/transfer-load.js";
import { serverCpuFigures, serverCpuMeter, type Scenario } from "./scenario.js";

const ACCOUNTS = 1_000;
const IN_FLIGHT = 64;
const CONNECTIONS = 2;
/** Completed transfers per second among 1,000 accounts. */
const TARGET_PER_SEC = 2_000;

export function transfersScenario(name: string, hot: boolean): Scenario {
  return {
    name,
    usesDriver: true,
    async run({ server, quick, driver }): Promise<ScenarioResult> {
      const config: Omit<TransferLoadConfig, "url"> = {
        driver,
        connections: CONNECTIONS,
        accounts: ACCOUNTS,
        hot,
        inFlight: IN_FLIGHT,
        warmupMs: quick ? 1_000 : 2_000,
        durationMs: quick ? 3_000 : 10_000,
        timeoutMs: 30_000,
      };
      const worker = startWorker("transfer-load", `${name} load`, { url: server.url, ...config });
      try {
        await worker.next("ready", 60_000 + config.warmupMs);
        const cpuMeter = serverCpuMeter(server);
        const waitMeter = runQueueWaitMeter(server.pid);
        const fromUs = monotonicUs();
        worker.send({ type: "go" });
        const done = await worker.next<TransferLoadDone & { type: string }>("done", config.durationMs + config.timeoutMs + 60_000);
        const cpu = serverCpuFigures(cpuMeter());
        const waitPct = waitMeter();
        const profileWindowUs = [fromUs, monotonicUs()] as const;
        const rssMb = (await server.peakRssBytes()) / 2 ** 20;
        const perSec = done.completedInWindow / (done.windowMs / 1000);
        const p50 = quantileOf(done.latencyMs, 0.5);
        const p99 = quantileOf(done.latencyMs, 0.99);
        const max = done.latencyMs[done.latencyMs.length - 1] ?? Number.NaN;
        const failures = done.failures.count === 0 ? [] : [`${done.failures.count} problem(s), e.g. ${done.failures.examples.join("; ")}`];
        if (done.completed === 0 && failures.length === 0) failures.push("no transfer completed");
        const rate = hot ? info("transfers/s (all through one hot account)", perSec, "/s") : atLeast("transfers/s", perSec, "/s", TARGET_PER_SEC);
        return {
          scenario: name,
          variant: driver,
          figures: [
            rate,
            info("transfer start to completed, p50", p50, "ms"),
            info("transfer start to completed, p99", p99, "ms"),
            info("transfer start to completed, max", max, "ms"),
            ...cpu.figures,
            info("server JS thread, waiting for a core", waitPct ?? Number.NaN, "% of the time"),
            info("server peak RSS", rssMb, "MiB"),
          ],
          failures,
          json: {
            transfersPerSec: Math.round(perSec),
            latencyP50Ms: round(p50, 1),
            latencyP99Ms: round(p99, 1),
            latencyMaxMs: round(max, 1),
            completedInWindow: done.completedInWindow,
            started: done.started,
            completed: done.completed,
            refusedShortOfFunds: done.refused,
            accounts: ACCOUNTS,
            hot,
            inFlight: IN_FLIGHT,
            connections: CONNECTIONS,
            driver,
            ...cpu.json,
            serverJsThreadWaitPct: waitPct === undefined ? undefined : round(waitPct, 0),
            serverRssMb: round(rssMb, 0),
            loadCpuPct: round((100 * done.cpuSeconds) / (done.windowMs / 1000), 0),
            verified: failures.length === 0,
          },
          notes: [],
          profileWindowUs,
        };
      } finally {
        await worker.stop();
      }
    },
  };
}
