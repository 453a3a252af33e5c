/**
 * Load process for `cluster-failover`: one real client connected to a list of nodes (its own node
 * first: when that node dies, the client reconnects to the next and resends what was not answered),
 * sending `add 1` signals at a steady rate round-robin over `targets`, with at most `maxInflight`
 * unanswered (beyond that the tick's signals are skipped, not queued: no burst after a stall).
 * Reports when every signal was sent and acknowledged, so that the runner can see the kill.
 */
import { randomUUID } from "node:crypto";
import { connect } from "../../../clients/index.js";
import { cpuSeconds, next, now, runWorker, send, sleepUntil } from "./ipc.js";

interface Config {
  /** The node URLs, this process's own node first. */
  readonly urls: string[];
  readonly targets: string[];
  readonly ratePerSec: number;
  readonly maxInflight: number;
  readonly firstTarget: number;
  /** How long the client keeps unanswered requests while it has no connection (default 10 s is too short for a failover). */
  readonly disconnectTimeoutMs: number;
}

runWorker(async () => {
  const config = await next<Config>("config");
  let errors = 0;
  let firstError: string | undefined;
  const error = (message: string) => {
    errors++;
    firstError ??= message;
  };
  const client = await connect(config.urls, { clientId: randomUUID(), disconnectTimeoutMs: config.disconnectTimeoutMs, onError: (e) => error(`${e.code}: ${e.message}`) });
  send({ type: "ready" });

  const { startAt } = await next<{ startAt: number }>("go");
  await sleepUntil(startAt);
  const cpuBefore = cpuSeconds();
  const perTarget = new Array<number>(config.targets.length).fill(0);
  // One entry per signal acknowledged: when it was sent and when its ack arrived (now(), ms).
  const sentAt: number[] = [];
  const ackedAt: number[] = [];
  let issued = 0;
  let skipped = 0;
  let inflight = 0;
  let nextTarget = config.firstTarget % config.targets.length;
  let settled: () => void = () => {};
  let stopping = false;

  const issue = () => {
    const target = nextTarget;
    nextTarget = nextTarget + 1 === config.targets.length ? 0 : nextTarget + 1;
    const sent = now();
    inflight++;
    client.signal(config.targets[target]!, "add", 1).then(
      () => {
        inflight--;
        perTarget[target]!++;
        sentAt.push(sent);
        ackedAt.push(now());
        if (stopping && inflight === 0) settled();
      },
      (e: { code?: string; message?: string }) => {
        inflight--;
        error(`${e.code}: ${e.message}`);
        if (stopping && inflight === 0) settled();
      },
    );
  };
  const tick = () => {
    const due = Math.floor(((now() - startAt) * config.ratePerSec) / 1000) - issued - skipped;
    for (let i = 0; i < due; i++) {
      if (inflight >= config.maxInflight) skipped++;
      else {
        issued++;
        issue();
      }
    }
  };
  const timer = setInterval(tick, 5);

  await next("stop");
  clearInterval(timer);
  stopping = true;
  let drainTimedOut = false;
  if (inflight > 0) {
    await Promise.race([
      new Promise<void>((resolve) => (settled = resolve)),
      new Promise<void>((resolve) =>
        setTimeout(() => {
          drainTimedOut = true;
          resolve();
        }, 60_000),
      ),
    ]);
  }
  send({ type: "done", sentAt, ackedAt, perTarget, issued, skipped, errors, firstError, drainTimedOut, cpuSeconds: cpuSeconds() - cpuBefore });
  await client.close();
});
