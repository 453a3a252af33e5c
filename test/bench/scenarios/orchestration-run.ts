/**
 * What the orchestration scenarios share: the bench app their server hosts, one run of the
 * orchestration load process (`workers/orchestration-load.ts`) with the server's CPU and peak RSS
 * around its measured rounds, and the correctness failures its report implies.
 */
import { fileURLToPath } from "node:url";
import { startWorker } from "../children.js";
import { info, monotonicUs, type Figure } from "../report.js";
import { runQueueWaitMeter } from "../run-queue-wait.js";
import type { ServerProcess } from "../server-process.js";
import type { OrchestrationLoadConfig, OrchestrationLoadDone } from "../workers/orchestration-load.js";
import type { ProblemList } from "../workers/orchestration-round.js";
import { serverCpuFigures, serverCpuMeter } from "./scenario.js";

/** The app module of the orchestration scenarios: the demo app plus `HelloSequence5`. */
export const ORCHESTRATION_APP = fileURLToPath(new URL("../apps/orchestration-app.ts", import.meta.url));

/** A finished run: the load's report, the server's CPU over the measured rounds, its peak RSS. */
export interface OrchestrationRun {
  readonly done: OrchestrationLoadDone;
  readonly serverCpu: ReturnType<typeof serverCpuFigures>;
  /** % of the measured wall time the server's JS thread was ready to run but waited for a core (a shared machine). */
  readonly jsThreadWaitPct: number | undefined;
  readonly rssMb: number;
  /** Correctness failures: wrong outputs, failed or unfinished instances. */
  readonly failures: string[];
  /** The server's peak RSS and CPU as figures. */
  readonly serverFigures: Figure[];
  /** The measured rounds on the monotonic clock (for the server's CPU profile). */
  readonly profileWindowUs: readonly [fromUs: number, toUs: number];
}

/** Runs the orchestration load against `server` and gathers what it and the server report. */
export async function runOrchestrationLoad(name: string, server: ServerProcess, config: Omit<OrchestrationLoadConfig, "url">): Promise<OrchestrationRun> {
  const worker = startWorker("orchestration-load", `${name} load`, { url: server.url, ...config });
  try {
    const warmupMs = config.warmup.rounds * config.roundTimeoutMs;
    await worker.next("ready", 60_000 + warmupMs);
    const cpuMeter = serverCpuMeter(server);
    const waitMeter = runQueueWaitMeter(server.pid);
    const fromUs = monotonicUs();
    worker.send({ type: "go" });
    const measuredMs = Math.min(config.durationMs + config.roundTimeoutMs, config.measured.rounds * config.roundTimeoutMs);
    const done = await worker.next<OrchestrationLoadDone & { type: string }>("done", measuredMs + 60_000);
    const serverCpu = serverCpuFigures(cpuMeter());
    const waitPct = waitMeter();
    const profileWindowUs = [fromUs, monotonicUs()] as const;
    const rssMb = (await server.peakRssBytes()) / 2 ** 20;
    const failures = [...describe(done.wrongOutputs, "completed with a wrong output"), ...describe(done.failures, "did not complete")];
    if (done.completed === 0 && failures.length === 0) failures.push("no instance completed");
    const serverFigures = [...serverCpu.figures, info("server JS thread, waiting for a core", waitPct ?? Number.NaN, "% of the time"), info("server peak RSS", rssMb, "MiB")];
    return { done, serverCpu, jsThreadWaitPct: waitPct, rssMb, failures, serverFigures, profileWindowUs };
  } finally {
    await worker.stop();
  }
}

function describe(problems: ProblemList, what: string): string[] {
  if (problems.count === 0) return [];
  return [`${problems.count} instance(s) ${what}, e.g. ${problems.examples.join("; ")}`];
}
