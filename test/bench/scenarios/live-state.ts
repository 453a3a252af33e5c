/**
 * `live-state`: many connections subscribed to one Stats entity that changes 10 times a second.
 * Every subscriber should get every version.
 *
 * Latency "from commit": the server does not say when it committed, so the commit time of a version
 * is taken as the earliest of (a) the driver's result arrival and (b) the first arrival of that
 * version at any subscriber; both come after the commit, so this figure is a lower bound, exact when
 * the first delivery is immediate; it measures the fan-out. "From send" (the driver's send of the
 * call) is the upper bound: it adds the call's queueing and the commit itself. Versions committed
 * during the first second (the warm-up, as in the signal scenarios) are checked for delivery but left
 * out of the latency figures.
 *
 * Meanwhile a bystander (its own process and connection, subscribed to nothing) calls `add 1` on
 * another entity one call at a time, through the same driver as the subscribers: its round trips show
 * how long a busy entity's fan-out holds up everyone else's requests. Beside it, in the same window, a
 * round-trip floor probe makes the same kind of sequential request/response against a trivial `ws`
 * echo peer (two more processes, not our server): what the loaded machine alone costs a round trip, so
 * that the caller's figures minus the probe's are what the server adds.
 */
import { startWorker, type Worker } from "../children.js";
import { Histogram, type HistogramData } from "../histogram.js";
import { atMost, info, round, type ScenarioResult } from "../report.js";
import { cpuSecondsOf } from "../server-process.js";
import { all, now, serverCpuFigures, serverCpuMeter, stopWorkers, verifyCounters, type Scenario, type ScenarioContext } from "./scenario.js";

const ENTITY = "Stats/live";
/** The bystander's counter: nobody subscribes to it. */
const CALLER_ENTITY = "Counter/bystander";
/** The floor probe sends at most one request every this many ms (its own CPU stays small). */
const PROBE_PERIOD_MS = 10;
const INTERVAL_MS = 100;
/** File descriptors the server keeps for itself besides the sockets (LMDB, stdio, IPC, listen socket…). */
const FD_MARGIN = 200;
/** How long after the driver's last call an update may still arrive; a later one counts as missed. */
const GRACE_MS = 2_000;

interface SubscribersDone {
  subscribers: number;
  delivered: number;
  missed: number;
  unmatched: number;
  subscribersMissing: number;
  maxMissed: number;
  duplicates: number;
  snapshots: number;
  inconsistent: number;
  outOfRange: number;
  disconnected: number;
  errors: number;
  firstError?: string;
  fromCommit: HistogramData;
  fromSend: HistogramData;
  worstByVersion: Array<[number, number]>;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  cpuSeconds: number;
}

/** The sequential caller's and the floor probe's `done` (see `workers/sequential-calls.ts`). */
interface CallerDone {
  latencies: HistogramData;
  /** Every call made, warm-up and the one before the run included. */
  calls: number;
  lastResult: number;
  /** [sentAt, ms] of the slowest measured calls. */
  slowest: Array<[number, number]>;
  /** How late this process's own 10 ms timer fired: the caller waiting for a core, not for the server. */
  loopLateP99Ms: number;
  loopLateMaxMs: number;
}

interface DriverDone {
  calls: Array<[number, number, number]>;
  firstVersion: number;
  finalVersion: number;
  lateSends: number;
}

export const liveState: Scenario = {
  name: "live-state",
  usesDriver: true,
  run: runLiveState,
};

async function runLiveState(context: ScenarioContext): Promise<ScenarioResult> {
  const { server, quick, openFileLimit, driver: subscriberDriver } = context;
  const notes: string[] = [];
  const processes = quick ? 2 : 4;
  let connections = quick ? 1_000 : 10_000;
  const durationMs = quick ? 3_000 : 10_000;
  const warmupMs = quick ? 500 : 1_000;
  if (openFileLimit !== undefined && connections + FD_MARGIN > openFileLimit) {
    const reduced = Math.max(processes, openFileLimit - FD_MARGIN);
    notes.push(`open-file limit is ${openFileLimit}: ${reduced} connections instead of ${connections} (raise the hard limit, ulimit -Hn, for the full figure)`);
    connections = reduced;
  }
  const perProcess = Math.ceil(connections / processes);
  const drivenMs = warmupMs + durationMs;
  const changes = Math.round(drivenMs / INTERVAL_MS);

  const workers: Worker[] = [];
  try {
    const driver = startWorker("live-driver", "live-state driver", { url: server.url, entity: ENTITY, intervalMs: INTERVAL_MS, durationMs: drivenMs });
    workers.push(driver);
    const caller = startWorker("live-caller", "live-state sequential caller", { url: server.url, entity: CALLER_ENTITY, driver: subscriberDriver });
    workers.push(caller);
    const echoPeer = startWorker("echo-peer", "live-state round-trip floor echo peer", {});
    workers.push(echoPeer);
    const { url: echoUrl } = await echoPeer.next<{ url: string }>("ready", 60_000);
    const probe = startWorker("round-trip-probe", "live-state round-trip floor probe", { url: echoUrl, entity: CALLER_ENTITY, periodMs: PROBE_PERIOD_MS });
    workers.push(probe);
    await Promise.all([driver.next("ready", 60_000), caller.next("ready", 60_000), probe.next("ready", 60_000)]);

    const connectStarted = now();
    const subscriberWorkers: Worker[] = [];
    for (let p = 0; p < processes; p++) {
      const count = Math.min(perProcess, connections - p * perProcess);
      const worker = startWorker("live-subscribers", `live-state subscribers ${p}`, {
        url: server.url,
        entity: ENTITY,
        connections: count,
        concurrency: 64,
        maxVersions: changes + 64,
        driver: subscriberDriver,
      });
      subscriberWorkers.push(worker);
      workers.push(worker);
    }
    const ready = await all<{ subscribers: number }>(subscriberWorkers, "ready", 180_000);
    const connectSeconds = (now() - connectStarted) / 1000;
    const subscribed = ready.reduce((sum, r) => sum + r.subscribers, 0);
    const rssIdleMb = (await server.rss()) / 2 ** 20;

    const goAt = now();
    const startAt = goAt + 500;
    const cpuMeter = serverCpuMeter(server);
    for (const worker of subscriberWorkers) worker.send({ type: "go" });
    driver.send({ type: "go", startAt });
    const callerCpu0 = cpuSecondsOfWorkers([caller]);
    const probeCpu0 = cpuSecondsOfWorkers([probe, echoPeer]);
    const callsGo = { type: "go", startAt, measureFrom: startAt + warmupMs, stopAt: startAt + drivenMs };
    caller.send(callsGo);
    probe.send(callsGo);
    const [driven, called, probed] = await Promise.all([
      driver.next<DriverDone>("done", drivenMs + 60_000),
      caller.next<CallerDone>("done", drivenMs + 60_000),
      probe.next<CallerDone>("done", drivenMs + 60_000),
    ]);
    const callsSeconds = (now() - goAt) / 1000;
    const callerCpuPct = (100 * (cpuSecondsOfWorkers([caller]) - callerCpu0)) / callsSeconds;
    const probeCpuPct = (100 * (cpuSecondsOfWorkers([probe, echoPeer]) - probeCpu0)) / callsSeconds;
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
    const serverCpu = serverCpuFigures(cpuMeter());
    const rssMb = (await server.peakRssBytes()) / 2 ** 20;
    const measureAt = now();
    for (const worker of subscriberWorkers) worker.send({ type: "collect" });
    const firstArrivals = new Map<number, number>();
    for (const r of await all<{ firstArrivals: Array<[number, number]> }>(subscriberWorkers, "first-arrivals", 60_000)) {
      for (const [version, at] of r.firstArrivals) firstArrivals.set(version, Math.min(firstArrivals.get(version) ?? Number.POSITIVE_INFINITY, at));
    }
    for (const worker of subscriberWorkers) worker.send({ type: "measure", calls: driven.calls, finalVersion: driven.finalVersion, firstArrivals: [...firstArrivals], measureFrom: startAt + warmupMs });
    const results = await all<SubscribersDone>(subscriberWorkers, "done", 120_000);

    const sum = (pick: (r: SubscribersDone) => number) => results.reduce((total, r) => total + pick(r), 0);
    const fromCommit = new Histogram();
    const fromSend = new Histogram();
    for (const r of results) {
      fromCommit.merge(r.fromCommit);
      fromSend.merge(r.fromSend);
    }
    const versions = driven.finalVersion - driven.firstVersion;
    const delivered = sum((r) => r.delivered);
    const missed = sum((r) => r.missed);
    const updatesPerSec = delivered / (drivenMs / 1000);
    const p99Commit = fromCommit.quantile(0.99);
    const callLatencies = new Histogram();
    callLatencies.merge(called.latencies);
    const callP99 = callLatencies.quantile(0.99);
    const callsPerSec = callLatencies.count / (durationMs / 1000);
    const floorLatencies = new Histogram();
    floorLatencies.merge(probed.latencies);

    const failures: string[] = [];
    if (subscribed < connections) failures.push(`only ${subscribed} of ${connections} connections subscribed`);
    if (driven.calls.length < changes) failures.push(`the driver made ${driven.calls.length} of ${changes} calls`);
    if (sum((r) => r.inconsistent) > 0) failures.push(`${sum((r) => r.inconsistent)} updates carried a count not larger than the previous version's`);
    if (sum((r) => r.duplicates) > 0) failures.push(`${sum((r) => r.duplicates)} versions were delivered twice to the same subscriber`);
    if (sum((r) => r.unmatched) > 0) failures.push(`${sum((r) => r.unmatched)} updates carried a count the driver never saw`);
    if (called.lastResult !== called.calls) failures.push(`the sequential caller's last call returned ${called.lastResult}, but it made ${called.calls} calls`);
    failures.push(...(await verifyCounters(server.url, new Map([[CALLER_ENTITY, called.calls]]))));
    if (versions < changes) {
      notes.push(`${changes} calls made ${versions} versions: calls that waited for the same server tick shared a commit (subscribers got every version)`);
    }
    if (sum((r) => r.errors) > 0) notes.push(`${sum((r) => r.errors)} connection errors, first: ${results.find((r) => r.firstError)?.firstError}`);
    if (driven.lateSends > 0) notes.push(`${driven.lateSends} of the driver's sends were more than 10 ms late (load on the machine)`);
    const worst = new Map<number, number>();
    for (const r of results) for (const [version, ms] of r.worstByVersion) worst.set(version, Math.max(worst.get(version) ?? Number.NEGATIVE_INFINITY, ms));
    const slowest = [...worst].sort((a, b) => b[1] - a[1]).slice(0, 3);
    notes.push(`slowest versions (last arrival after commit): ${slowest.map(([version, ms]) => `v${version} ${ms.toFixed(1)} ms`).join(", ")}`);
    const slowCalls = called.slowest.map(([sentAt, ms]) => `${ms.toFixed(1)} ms at +${((sentAt - startAt) / 1000).toFixed(2)} s`);
    notes.push(`sequential caller (${CALLER_ENTITY}, ${callLatencies.count} measured calls): slowest ${slowCalls.join(", ")}; its own 10 ms timer fired late by p99 ${called.loopLateP99Ms.toFixed(1)} ms, max ${called.loopLateMaxMs.toFixed(1)} ms; CPU ${callerCpuPct.toFixed(0)} % of a core`);
    const slowEchoes = probed.slowest.map(([sentAt, ms]) => `${ms.toFixed(1)} ms at +${((sentAt - startAt) / 1000).toFixed(2)} s`);
    notes.push(
      `round-trip floor (a ws client and a ws echo peer, one request at most every ${PROBE_PERIOD_MS} ms, ${floorLatencies.count} measured): slowest ${slowEchoes.join(", ")}; its own 10 ms timer fired late by p99 ${probed.loopLateP99Ms.toFixed(1)} ms, max ${probed.loopLateMaxMs.toFixed(1)} ms; CPU (probe and echo peer) ${probeCpuPct.toFixed(0)} % of a core; the caller's p99 minus the floor's p99 is what the server adds`,
    );
    notes.push(`subscriber processes' event-loop delay: p99 up to ${Math.max(...results.map((r) => r.loopDelayP99Ms)).toFixed(1)} ms, max ${Math.max(...results.map((r) => r.loopDelayMaxMs)).toFixed(1)} ms`);

    return {
      scenario: "live-state",
      variant: subscriberDriver,
      figures: [
        atMost("missed updates", missed, "", 0),
        atMost("p99 latency from commit", p99Commit, "ms", 100),
        atMost("sequential caller: call p99", callP99, "ms", 10),
        atMost("server peak RSS", rssMb, "MiB", 1024),
        info("updates delivered", updatesPerSec, "/s"),
        info("versions committed", versions / (drivenMs / 1000), "/s"),
        info("p50 latency from commit", fromCommit.quantile(0.5), "ms"),
        info("max latency from commit", fromCommit.max, "ms"),
        info("p99 latency from send (upper bound)", fromSend.quantile(0.99), "ms"),
        info("max latency from send", fromSend.max, "ms"),
        info("sequential caller: call p50", callLatencies.quantile(0.5), "ms"),
        info("sequential caller: call max", callLatencies.max, "ms"),
        info("sequential caller: calls", callsPerSec, "/s"),
        info("round-trip floor (echo peer): p50", floorLatencies.quantile(0.5), "ms"),
        info("round-trip floor (echo peer): p99", floorLatencies.quantile(0.99), "ms"),
        info("round-trip floor (echo peer): max", floorLatencies.max, "ms"),
        info("subscribers", subscribed, ""),
        ...serverCpu.figures,
      ],
      failures,
      json: {
        subscribers: subscribed,
        loadProcesses: processes,
        driver: subscriberDriver,
        calls: driven.calls.length,
        versions,
        changesPerSec: 1000 / INTERVAL_MS,
        seconds: drivenMs / 1000,
        warmupSeconds: warmupMs / 1000,
        updatesPerSec: Math.round(updatesPerSec),
        delivered,
        missed,
        subscribersMissing: sum((r) => r.subscribersMissing),
        maxMissedPerSubscriber: Math.max(...results.map((r) => r.maxMissed)),
        updatesAsSnapshot: sum((r) => r.snapshots),
        disconnectedAtEnd: sum((r) => r.disconnected),
        p50Ms: round(fromCommit.quantile(0.5)),
        p99Ms: round(p99Commit),
        maxMs: round(fromCommit.max),
        p99FromSendMs: round(fromSend.quantile(0.99)),
        callerCalls: callLatencies.count,
        callerCallsPerSec: Math.round(callsPerSec),
        callerP50Ms: round(callLatencies.quantile(0.5)),
        callerP99Ms: round(callP99),
        callerMaxMs: round(callLatencies.max),
        floorRoundTrips: floorLatencies.count,
        floorP50Ms: round(floorLatencies.quantile(0.5)),
        floorP99Ms: round(floorLatencies.quantile(0.99)),
        floorMaxMs: round(floorLatencies.max),
        callerCpuPct: round(callerCpuPct, 0),
        floorCpuPct: round(probeCpuPct, 0),
        connectSeconds: round(connectSeconds, 1),
        serverRssIdleMb: round(rssIdleMb, 0),
        serverRssMb: round(rssMb, 0),
        ...serverCpu.json,
        subscriberCpuPct: round((100 * sum((r) => r.cpuSeconds)) / ((measureAt - goAt) / 1000), 0),
      },
      notes,
    };
  } finally {
    await stopWorkers(workers);
  }
}

/** CPU seconds (user + system) of the workers' processes together; NaN off Linux. */
function cpuSecondsOfWorkers(workers: readonly Worker[]): number {
  return workers.reduce((total, worker) => total + (worker.child.pid === undefined ? Number.NaN : (cpuSecondsOf(worker.child.pid) ?? Number.NaN)), 0);
}
