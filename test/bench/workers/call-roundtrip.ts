/**
 * Load process for `call-roundtrip`: one connection, one call at a time (`add 1` on one counter),
 * each awaited before the next; reports every latency after a warm-up.
 */
import { connect } from "../../../clients/index.js";
import { cpuSeconds, next, now, runWorker, send } from "./ipc.js";

interface Config {
  readonly url: string;
  readonly entity: string;
  readonly warmupCalls: number;
  readonly durationMs: number;
}

runWorker(async () => {
  const config = await next<Config>("config");
  const client = await connect(config.url);
  send({ type: "ready" });
  await next("go");

  let total = 0;
  let last: number | undefined;
  for (let i = 0; i < config.warmupCalls; i++) {
    last = await client.call<number>(config.entity, "add", 1);
    total++;
  }
  const latencies: number[] = [];
  const cpuBefore = cpuSeconds();
  const started = now();
  const stopAt = started + config.durationMs;
  while (true) {
    const sentAt = performance.now();
    last = await client.call<number>(config.entity, "add", 1);
    latencies.push(performance.now() - sentAt);
    total++;
    if (now() >= stopAt) break;
  }
  const elapsedMs = now() - started;
  send({ type: "done", latencies, calls: total, lastResult: last, elapsedMs, cpuSeconds: cpuSeconds() - cpuBefore });
  await client.close();
});
