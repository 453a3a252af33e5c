/**
 * The writer of `live-state`: calls `record` on one Stats entity every `intervalMs`, on schedule
 * (not waiting for the previous call). For each call it notes the entity's `count` after it, when it
 * was sent and when its result came back: results are released only once the commit is durable, so
 * that arrival bounds the commit time from above. Calls that land in the same server tick share one
 * commit, hence one version; the subscribers map versions to counts through the state they receive.
 */
import { connect } from "../../../clients/index.js";
import { next, now, runWorker, send, sleepUntil } from "./ipc.js";

interface Config {
  readonly url: string;
  readonly entity: string;
  readonly intervalMs: number;
  readonly durationMs: number;
}

type StatsState = { count: number };

runWorker(async () => {
  const config = await next<Config>("config");
  const client = await connect(config.url);
  // One change before anyone subscribes, so that the entity exists and later changes can travel as patches.
  await client.call<StatsState>(config.entity, "record", 0);
  const primed = await client.getWithVersion<StatsState>(config.entity);
  send({ type: "ready", version: primed.version });

  const { startAt } = await next<{ startAt: number }>("go");
  const changes = Math.round(config.durationMs / config.intervalMs);
  /** [count after the call, sentAt, resultAt] */
  const calls: Array<[number, number, number]> = [];
  const pending: Array<Promise<void>> = [];
  let lateSends = 0;
  for (let i = 0; i < changes; i++) {
    const due = startAt + i * config.intervalMs;
    await sleepUntil(due);
    const sentAt = now();
    if (sentAt - due > 10) lateSends++;
    pending.push(client.call<StatsState>(config.entity, "record", i + 1).then((state) => void calls.push([state.count, sentAt, now()])));
  }
  await Promise.all(pending);
  const final = await client.getWithVersion<StatsState>(config.entity);
  calls.sort((a, b) => a[0] - b[0]);
  send({ type: "done", calls, firstVersion: primed.version, finalVersion: final.version, lateSends });
  await client.close();
});
