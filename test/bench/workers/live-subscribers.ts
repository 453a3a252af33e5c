/**
 * Load process for `live-state`: `connections` separate connections, each subscribed to one entity.
 * Records when each version arrived on each connection and the `count` it carried; once the driver's
 * calls are known, reports which versions each subscriber missed and how late the rest arrived.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Histogram } from "../histogram.js";
import { cpuSeconds, next, now, runWorker, send } from "./ipc.js";
import { clientSubscriber, rawSubscriber, type LiveConnection } from "./live-connection.js";

interface Config {
  readonly url: string;
  readonly entity: string;
  readonly connections: number;
  /** Connections opened at once. */
  readonly concurrency: number;
  /** Most versions after the first snapshot that are tracked. */
  readonly maxVersions: number;
  readonly driver: "client" | "raw";
}

interface Measure {
  /** [count after the call, sentAt, resultAt] of every call the driver made. */
  readonly calls: Array<[number, number, number]>;
  /** The entity's version after the last call. */
  readonly finalVersion: number;
  /** [version, first arrival at any subscriber of any process]. */
  readonly firstArrivals: Array<[number, number]>;
  /** Versions committed before this (the warm-up) count as delivered or missed but not in the latencies. */
  readonly measureFrom: number;
}

class Subscriber {
  connection: LiveConnection | undefined;
  baseVersion = -1;
  duplicates = 0;
  /** Changes that came as a whole state rather than a patch (the server sends whichever is smaller). */
  snapshots = 0;
  /** A later version carried a count that is not larger. */
  inconsistent = 0;
  outOfRange = 0;
  readonly arrivals: Float64Array;
  readonly counts: Float64Array;

  constructor(maxVersions: number) {
    this.arrivals = new Float64Array(maxVersions);
    this.counts = new Float64Array(maxVersions);
  }

  receive(version: number, count: number, kind: "snapshot" | "patch"): void {
    const at = now();
    if (this.baseVersion < 0) {
      this.baseVersion = version;
      this.counts[0] = count;
      return;
    }
    if (kind === "snapshot") this.snapshots++;
    const index = version - this.baseVersion;
    if (index <= 0 || index >= this.arrivals.length) {
      this.outOfRange++;
      return;
    }
    if (this.arrivals[index] !== 0) {
      this.duplicates++;
      return;
    }
    this.arrivals[index] = at;
    this.counts[index] = count;
    if (this.counts[index - 1] !== 0 && count <= this.counts[index - 1]!) this.inconsistent++;
  }
}

runWorker(async () => {
  const config = await next<Config>("config");
  let errors = 0;
  let firstError: string | undefined;
  const onError = (message: string) => {
    errors++;
    firstError ??= message;
  };
  const open = config.driver === "raw" ? rawSubscriber : clientSubscriber;

  const subscribers: Subscriber[] = [];
  let opened = 0;
  const opener = async () => {
    while (opened < config.connections) {
      opened++;
      const subscriber = new Subscriber(config.maxVersions);
      subscriber.connection = await open(config.url, config.entity, (version, count, kind) => subscriber.receive(version, count, kind), onError);
      await subscriber.connection.ready;
      subscribers.push(subscriber);
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, config.connections) }, opener));
  send({ type: "ready", subscribers: subscribers.length });

  await next("go");
  const cpuBefore = cpuSeconds();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  await next("collect");
  loopDelay.disable();
  const cpu = cpuSeconds() - cpuBefore;
  const firstHere = new Map<number, number>();
  for (const subscriber of subscribers) {
    subscriber.arrivals.forEach((at, index) => {
      if (at === 0 || index === 0) return;
      const version = subscriber.baseVersion + index;
      firstHere.set(version, Math.min(firstHere.get(version) ?? Number.POSITIVE_INFINITY, at));
    });
  }
  send({ type: "first-arrivals", firstArrivals: [...firstHere] });

  const { calls, finalVersion, firstArrivals, measureFrom } = await next<Measure>("measure");
  const byCount = new Map(calls.map(([count, sentAt, resultAt]) => [count, { sentAt, resultAt }]));
  const firstArrival = new Map(firstArrivals);
  const fromCommit = new Histogram();
  const fromSend = new Histogram();
  let delivered = 0;
  let missed = 0;
  let unmatched = 0;
  let subscribersMissing = 0;
  let maxMissed = 0;
  let disconnected = 0;
  const totals = { duplicates: 0, snapshots: 0, inconsistent: 0, outOfRange: 0 };
  /** Per version after the base: the latest arrival (from commit) over this process's subscribers. */
  const worstByVersion = new Map<number, number>();
  for (const subscriber of subscribers) {
    let missedHere = 0;
    for (let version = subscriber.baseVersion + 1; version <= finalVersion; version++) {
      const index = version - subscriber.baseVersion;
      const at = index < subscriber.arrivals.length ? subscriber.arrivals[index]! : 0;
      if (at === 0) {
        missedHere++;
        continue;
      }
      delivered++;
      const call = byCount.get(subscriber.counts[index]!);
      if (call === undefined) {
        unmatched++;
        continue;
      }
      // The commit happened before the driver's result arrived and before any subscriber got the version.
      const committedAt = Math.min(call.resultAt, firstArrival.get(version) ?? call.resultAt);
      if (committedAt < measureFrom) continue;
      worstByVersion.set(version, Math.max(worstByVersion.get(version) ?? Number.NEGATIVE_INFINITY, at - committedAt));
      fromCommit.record(at - committedAt);
      fromSend.record(at - call.sentAt);
    }
    missed += missedHere;
    if (missedHere > 0) subscribersMissing++;
    maxMissed = Math.max(maxMissed, missedHere);
    totals.duplicates += subscriber.duplicates;
    totals.snapshots += subscriber.snapshots;
    totals.inconsistent += subscriber.inconsistent;
    totals.outOfRange += subscriber.outOfRange;
    if (!subscriber.connection?.connected) disconnected++;
  }
  send({
    type: "done",
    subscribers: subscribers.length,
    delivered,
    missed,
    unmatched,
    subscribersMissing,
    maxMissed,
    ...totals,
    disconnected,
    errors,
    firstError,
    fromCommit: fromCommit.toJSON(),
    fromSend: fromSend.toJSON(),
    worstByVersion: [...worstByVersion],
    loopDelayMaxMs: loopDelay.max / 1e6,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    cpuSeconds: cpu,
  });
  await Promise.all(subscribers.map((subscriber) => subscriber.connection?.close()));
});
