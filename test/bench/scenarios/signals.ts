/**
 * `signals-1000-counters` and `signals-1-hot-counter`: durable signals per second, pipelined over
 * several connections from separate load processes; a signal counts once acknowledged.
 */
import { startWorker, type Worker } from "../children.js";
import { atLeast, info, round, type ScenarioResult } from "../report.js";
import { all, now, serverCpuFigures, serverCpuMeter, stopWorkers, verifyCounters, type Scenario, type ScenarioContext } from "./scenario.js";

const TARGET_PER_SEC = 200_000;

interface Done {
  acked: number;
  inWindow: number;
  perTarget: number[];
  errors: number;
  firstError?: string;
  drainTimedOut: boolean;
  cpuSeconds: number;
}

export function signalsScenario(name: string, targets: string[]): Scenario {
  return { name, usesDriver: true, run: (context) => runSignals(name, targets, context) };
}

async function runSignals(name: string, targets: string[], context: ScenarioContext): Promise<ScenarioResult> {
  const { server, quick, driver, window } = context;
  const processes = 2;
  const connectionsPerProcess = 4;
  const durationMs = quick ? 4_000 : 12_000;
  const warmupMs = quick ? 1_000 : 2_000;

  const workers: Worker[] = [];
  try {
    for (let p = 0; p < processes; p++) {
      workers.push(
        startWorker("signal-load", `${name} load ${p}`, { url: server.url, connections: connectionsPerProcess, window, targets, driver, firstConnection: p * connectionsPerProcess }),
      );
    }
    await all(workers, "ready", 60_000);
    const startAt = now() + 300;
    const cpuMeter = serverCpuMeter(server);
    for (const worker of workers) worker.send({ type: "go", startAt, warmupMs, durationMs });
    const results = await all<Done>(workers, "done", durationMs + 60_000);
    const elapsedMs = now() - startAt;
    const serverCpu = serverCpuFigures(cpuMeter());
    const rssMb = (await server.peakRssBytes()) / 2 ** 20;

    const acked = results.reduce((sum, r) => sum + r.acked, 0);
    const inWindow = results.reduce((sum, r) => sum + r.inWindow, 0);
    const perSec = inWindow / ((durationMs - warmupMs) / 1000);
    const loadCpu = (100 * results.reduce((sum, r) => sum + r.cpuSeconds, 0)) / (elapsedMs / 1000);

    const failures: string[] = [];
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) failures.push(`${errors} signals failed, first: ${results.find((r) => r.firstError)?.firstError}`);
    if (results.some((r) => r.drainTimedOut)) failures.push("some signals were never acknowledged (waited 30 s after the run)");
    const expected = new Map(targets.map((id, i) => [id, results.reduce((sum, r) => sum + (r.perTarget[i] ?? 0), 0)]));
    failures.push(...(await verifyCounters(server.url, expected)));

    return {
      scenario: name,
      variant: driver,
      figures: [
        atLeast("signals/s", perSec, "/s", TARGET_PER_SEC),
        ...serverCpu.figures,
        info("load processes' CPU", loadCpu, "% of a core"),
        info("server peak RSS", rssMb, "MiB"),
      ],
      failures,
      json: {
        signalsPerSec: Math.round(perSec),
        ackedTotal: acked,
        measuredSeconds: (durationMs - warmupMs) / 1000,
        counters: targets.length,
        connections: processes * connectionsPerProcess,
        loadProcesses: processes,
        windowPerConnection: window,
        driver,
        ...serverCpu.json,
        loadCpuPct: round(loadCpu, 0),
        serverRssMb: round(rssMb, 0),
        verified: failures.length === 0,
      },
      notes: [],
    };
  } finally {
    await stopWorkers(workers);
  }
}
