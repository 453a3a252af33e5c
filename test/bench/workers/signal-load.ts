/**
 * Load process for the signal scenarios: opens `connections` connections and keeps `window`
 * unacknowledged signals (`add 1`) in flight on each, round-robin over `targets`, until the run ends.
 * A signal counts once acknowledged (the ack means durable). Reports acks per target so the runner
 * can check the counters' totals.
 */
import { randomUUID } from "node:crypto";
import { connect } from "../../../clients/index.js";
import { cpuSeconds, next, now, runWorker, send, sleepUntil } from "./ipc.js";
import { RawConnection, type RawSignal } from "./raw-driver.js";

interface Config {
  readonly url: string;
  readonly connections: number;
  readonly window: number;
  readonly targets: string[];
  readonly driver: "client" | "raw";
  /** Spreads where each connection starts in `targets`, across workers. */
  readonly firstConnection: number;
}

interface Go {
  readonly startAt: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** One connection's load loop, driven by `start`; calls `done` once its last signal is answered. */
interface Lane {
  start(go: Go, done: () => void): void;
  close(): Promise<void> | void;
}

class Tally {
  acked = 0;
  inWindow = 0;
  errors = 0;
  firstError: string | undefined;
  readonly perTarget: number[];
  windowStart = 0;
  stopAt = 0;

  constructor(targets: number) {
    this.perTarget = new Array<number>(targets).fill(0);
  }

  error(message: string): void {
    this.errors++;
    this.firstError ??= message;
  }
}

runWorker(async () => {
  const config = await next<Config>("config");
  const tally = new Tally(config.targets.length);
  const lanes: Lane[] = [];
  for (let i = 0; i < config.connections; i++) {
    const offset = ((config.firstConnection + i) * 997) % config.targets.length;
    lanes.push(config.driver === "raw" ? await rawLane(config, offset, tally) : await clientLane(config, offset, tally));
  }
  send({ type: "ready" });

  const go = await next<Go>("go");
  tally.windowStart = go.startAt + go.warmupMs;
  tally.stopAt = go.startAt + go.durationMs;
  await sleepUntil(go.startAt);
  const cpuBefore = cpuSeconds();
  let drainTimedOut = false;
  await Promise.race([
    Promise.all(lanes.map((lane) => new Promise<void>((resolve) => lane.start(go, resolve)))),
    sleepUntil(tally.stopAt + 30_000).then(() => {
      drainTimedOut = true;
    }),
  ]);
  const cpu = cpuSeconds() - cpuBefore;
  send({
    type: "done",
    acked: tally.acked,
    inWindow: tally.inWindow,
    perTarget: tally.perTarget,
    errors: tally.errors,
    firstError: tally.firstError,
    drainTimedOut,
    cpuSeconds: cpu,
  });
  await Promise.all(lanes.map((lane) => lane.close()));
});

async function clientLane(config: Config, offset: number, tally: Tally): Promise<Lane> {
  const client = await connect(config.url, { clientId: randomUUID(), onError: (error) => tally.error(`${error.code}: ${error.message}`) });
  const { targets } = config;
  return {
    start(_go, done) {
      let nextTarget = offset;
      let inflight = 0;
      const issue = (): void => {
        const target = nextTarget;
        nextTarget = nextTarget + 1 === targets.length ? 0 : nextTarget + 1;
        inflight++;
        client.signal(targets[target]!, "add", 1).then(
          () => {
            inflight--;
            tally.acked++;
            tally.perTarget[target]!++;
            const at = now();
            if (at >= tally.windowStart && at <= tally.stopAt) tally.inWindow++;
            if (at < tally.stopAt) issue();
            else if (inflight === 0) done();
          },
          (error: { code?: string; message?: string }) => {
            inflight--;
            tally.error(`${error.code}: ${error.message}`);
            if (inflight === 0 && now() >= tally.stopAt) done();
          },
        );
      };
      for (let i = 0; i < config.window; i++) issue();
    },
    close: () => client.close(),
  };
}

async function rawLane(config: Config, offset: number, tally: Tally): Promise<Lane> {
  const { targets } = config;
  let onAcks: (ids: number[]) => void = () => {};
  let onFailed: (id: number) => void = () => {};
  const connection = await RawConnection.open(config.url, randomUUID(), (ids) => onAcks(ids), (message, id) => {
    tally.error(message);
    if (id !== undefined) onFailed(id);
  });
  const targetOf = (id: number) => (offset + id) % targets.length;
  return {
    start(_go, done) {
      let nextId = 1;
      let inflight = 0;
      const issue = (count: number) => {
        const batch: RawSignal[] = [];
        for (let i = 0; i < count; i++) {
          const id = nextId++;
          batch.push({ id, entity: targets[targetOf(id)]!, input: 1 });
        }
        inflight += count;
        connection.sendSignals(batch, "add");
      };
      onAcks = (ids) => {
        inflight -= ids.length;
        tally.acked += ids.length;
        for (const id of ids) tally.perTarget[targetOf(id)]!++;
        const at = now();
        if (at >= tally.windowStart && at <= tally.stopAt) tally.inWindow += ids.length;
        if (at < tally.stopAt) issue(ids.length);
        else if (inflight === 0) done();
      };
      onFailed = () => {
        inflight--;
        if (inflight === 0 && now() >= tally.stopAt) done();
      };
      issue(config.window);
    },
    close: () => connection.close(),
  };
}
