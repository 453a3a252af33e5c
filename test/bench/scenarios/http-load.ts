/**
 * `http-signals` and `http-starts`: Durable Functions' HTTP API under load. 64 keep-alive HTTP
 * clients (2 load processes × 32 connections), each with one request in flight at a time:
 * - `http-signals`: POST /entities/Counter/cN?op=add (body 1) across 1,000 counters, each answered
 *   202 only once the signal is durable; the counters are read back afterwards and must equal the
 *   202s each received.
 * - `http-starts`: POST /orchestrators/HelloSequence, each answered 202 once the start is durable;
 *   afterwards every instance must complete with HelloSequence's output, and the instances listed
 *   must be exactly the ones started.
 * `--driver client` speaks through Node's http client (an Agent with keep-alive), `raw` through a
 * minimal HTTP/1.1 client (workers/raw-http.ts) that costs the load processes almost nothing.
 */
import { startWorker, type Worker } from "../children.js";
import { Histogram, type HistogramData } from "../histogram.js";
import { atLeast, info, monotonicUs, round, type Figure, type ScenarioResult } from "../report.js";
import { all, now, serverCpuFigures, serverCpuMeter, stopWorkers, verifyCounters, type Scenario, type ScenarioContext } from "./scenario.js";

const SIGNALS_TARGET_PER_SEC = 20_000;
const PROCESSES = 2;
const CONNECTIONS_PER_PROCESS = 32;
const HELLO_OUTPUT = JSON.stringify(["Hello Tokyo!", "Hello Seattle!", "Hello London!"]);

interface Done {
  acked: number;
  inWindow: number;
  perTarget: number[];
  instanceIds: string[];
  errors: number;
  firstError?: string;
  cpuSeconds: number;
  latency: HistogramData;
}

interface LoadRun {
  readonly results: Done[];
  readonly perSec: number;
  readonly latency: Histogram;
  readonly figures: Figure[];
  readonly json: Record<string, unknown>;
  readonly profileWindowUs: readonly [number, number];
}

async function runLoad(name: string, kind: "signal" | "start", targets: string[], context: ScenarioContext): Promise<LoadRun> {
  const { server, quick, driver } = context;
  const durationMs = quick ? 4_000 : 12_000;
  const warmupMs = quick ? 1_000 : 2_000;
  const workers: Worker[] = [];
  try {
    for (let p = 0; p < PROCESSES; p++) {
      workers.push(startWorker("http-load", `${name} load ${p}`, { url: server.url, connections: CONNECTIONS_PER_PROCESS, kind, targets, driver, firstConnection: p * CONNECTIONS_PER_PROCESS }));
    }
    await all(workers, "ready", 60_000);
    const startAt = now() + 300;
    const cpuMeter = serverCpuMeter(server);
    const fromUs = monotonicUs() + Math.round((startAt + warmupMs - now()) * 1000);
    for (const worker of workers) worker.send({ type: "go", startAt, warmupMs, durationMs });
    const results = await all<Done>(workers, "done", durationMs + 60_000);
    const toUs = monotonicUs();
    const elapsedMs = now() - startAt;
    const serverCpu = serverCpuFigures(cpuMeter());
    const rssMb = (await server.peakRssBytes()) / 2 ** 20;
    const inWindow = results.reduce((sum, r) => sum + r.inWindow, 0);
    const perSec = inWindow / ((durationMs - warmupMs) / 1000);
    const loadCpu = (100 * results.reduce((sum, r) => sum + r.cpuSeconds, 0)) / (elapsedMs / 1000);
    const latency = new Histogram();
    for (const result of results) latency.merge(result.latency);
    return {
      results,
      perSec,
      latency,
      figures: [
        info("request p50 (sent to 202)", latency.quantile(0.5), "ms"),
        info("request p99", latency.quantile(0.99), "ms"),
        ...serverCpu.figures,
        info("load processes' CPU", loadCpu, "% of a core"),
        info("server peak RSS", rssMb, "MiB"),
      ],
      json: {
        p50Ms: round(latency.quantile(0.5), 2),
        p99Ms: round(latency.quantile(0.99), 2),
        measuredSeconds: (durationMs - warmupMs) / 1000,
        clients: PROCESSES * CONNECTIONS_PER_PROCESS,
        loadProcesses: PROCESSES,
        driver,
        ...serverCpu.json,
        loadCpuPct: round(loadCpu, 0),
        serverRssMb: round(rssMb, 0),
      },
      profileWindowUs: [fromUs, toUs],
    };
  } finally {
    await stopWorkers(workers);
  }
}

function errorsOf(results: readonly Done[]): string[] {
  const errors = results.reduce((sum, r) => sum + r.errors, 0);
  return errors > 0 ? [`${errors} requests failed, first: ${results.find((r) => r.firstError)?.firstError}`] : [];
}

/** `http-signals`: durable entity signals per second over HTTP. */
export const httpSignals: Scenario = {
  name: "http-signals",
  usesDriver: true,
  async run(context): Promise<ScenarioResult> {
    const targets = Array.from({ length: 1000 }, (_, i) => `Counter/c${i}`);
    const run = await runLoad("http-signals", "signal", targets, context);
    const failures = errorsOf(run.results);
    const expected = new Map(targets.map((id, i) => [id, run.results.reduce((sum, r) => sum + (r.perTarget[i] ?? 0), 0)]));
    failures.push(...(await verifyCounters(context.server.url, expected)));
    return {
      scenario: "http-signals",
      variant: context.driver,
      figures: [atLeast("signals/s over HTTP (202 = durable)", run.perSec, "/s", SIGNALS_TARGET_PER_SEC), ...run.figures],
      failures,
      json: { signalsPerSec: Math.round(run.perSec), acked: run.results.reduce((sum, r) => sum + r.acked, 0), counters: targets.length, ...run.json, verified: failures.length === 0 },
      notes: [],
      profileWindowUs: run.profileWindowUs,
    };
  },
};

/** Pages through every instance of the server's hub over the HTTP API. */
async function listAll(base: string, query: string): Promise<Array<{ instanceId: string; runtimeStatus: string; output: unknown }>> {
  const all: Array<{ instanceId: string; runtimeStatus: string; output: unknown }> = [];
  let token: string | null = null;
  do {
    const response: Response = await fetch(`${base}/instances?top=1000&showInput=false${query}`, token === null ? {} : { headers: { "x-ms-continuation-token": token } });
    all.push(...((await response.json()) as typeof all));
    token = response.headers.get("x-ms-continuation-token");
  } while (token !== null);
  return all;
}

/** `http-starts`: orchestration starts per second over HTTP; every instance is then checked. */
export const httpStarts: Scenario = {
  name: "http-starts",
  usesDriver: true,
  async run(context): Promise<ScenarioResult> {
    const run = await runLoad("http-starts", "start", ["HelloSequence"], context);
    const failures = errorsOf(run.results);
    const base = `${context.server.url}/runtime/webhooks/durabletask`;
    const started = new Set(run.results.flatMap((r) => r.instanceIds));
    const waitFrom = now();
    const deadline = waitFrom + 180_000;
    while ((await listAll(base, "&runtimeStatus=Running,Pending").then((page) => page.length)) > 0) {
      if (now() > deadline) {
        failures.push("instances were still running 180 s after the load");
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const drainedMs = now() - waitFrom;
    const listed = await listAll(base, "");
    const wrong = listed.filter((status) => status.runtimeStatus !== "Completed" || JSON.stringify(status.output) !== HELLO_OUTPUT);
    if (wrong.length > 0) failures.push(`${wrong.length} instances did not complete with HelloSequence's output, e.g. ${JSON.stringify(wrong[0]).slice(0, 300)}`);
    const listedIds = new Set(listed.map((status) => status.instanceId));
    const unknown = listed.filter((status) => !started.has(status.instanceId)).length;
    const missing = [...started].filter((id) => !listedIds.has(id)).length;
    if (listed.length !== started.size || unknown > 0 || missing > 0) failures.push(`${started.size} starts were answered 202, ${listed.length} instances are listed (${missing} missing, ${unknown} unknown)`);
    return {
      scenario: "http-starts",
      variant: context.driver,
      figures: [info("orchestration starts/s over HTTP (202 = durable)", run.perSec, "/s"), ...run.figures, info("after the load, until every instance completed", drainedMs, "ms")],
      failures,
      json: { startsPerSec: Math.round(run.perSec), started: started.size, completed: listed.length - wrong.length, drainedMs: Math.round(drainedMs), ...run.json, verified: failures.length === 0 },
      notes: [],
      profileWindowUs: run.profileWindowUs,
    };
  },
};
