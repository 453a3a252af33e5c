/**
 * A connection of the orchestration load, speaking either the raw protocol or the real client. Each
 * starts a round's share of instances at once and tells the round what became of them: when each
 * start was sent, when it was durable, and its finished status.
 */
import { randomUUID } from "node:crypto";
import { connect } from "../../../clients/index.js";
import type { OrchestrationRound } from "./orchestration-round.js";
import { RawOrchestrationConnection, type RequestFrame } from "./raw-orchestration-connection.js";

/** One instance to start. */
export interface InstanceStart {
  readonly instanceId: string;
  readonly input?: unknown;
}

/** One connection of the load. */
export interface OrchestrationLane {
  /** Starts every instance of `instances` (of orchestration `name`) at once; reports to `round`. */
  start(name: string, instances: readonly InstanceStart[], round: OrchestrationRound): void;
  close(): Promise<void> | void;
}

/**
 * Raw protocol: one message per round, each instance's `start` then its `watch` (the watch's read
 * runs after the start in the instance's mailbox), preceded by `unwatch` of the previous round's.
 */
export async function rawLane(url: string, label: string): Promise<OrchestrationLane> {
  const requests = new Map<number, string>();
  let round: OrchestrationRound | undefined;
  let previous: readonly string[] = [];
  const connection = await RawOrchestrationConnection.open(url, randomUUID(), {
    instance: (instanceId, status, at) => round?.status(instanceId, status, at),
    result: (requestId, _value, at) => {
      const instanceId = requests.get(requestId);
      if (instanceId !== undefined) round?.durable(instanceId, at);
    },
    error: (requestIds, message) => {
      if (requestIds.length === 0) return round?.abandon(`${label}: ${message}`, performance.now());
      for (const requestId of requestIds) {
        const instanceId = requests.get(requestId);
        if (instanceId !== undefined) round?.error(instanceId, message, performance.now());
      }
    },
    closed: (code) => round?.abandon(`${label} closed (${code})`, performance.now()),
  });
  return {
    start(name, instances, current) {
      round = current;
      requests.clear();
      const frames: RequestFrame[] = previous.map((instanceId) => ({ type: "unwatch" as const, instanceId }));
      for (const { instanceId, input } of instances) {
        frames.push({ type: "start", name, instanceId, ...(input === undefined ? {} : { input }) }, { type: "watch", instanceId });
      }
      const at = performance.now();
      for (const { instanceId } of instances) current.sent(instanceId, at);
      const ids = connection.send(frames);
      ids.slice(frames.length - 2 * instances.length).forEach((id, k) => requests.set(id, instances[k >> 1]!.instanceId));
      previous = instances.map(({ instanceId }) => instanceId);
    },
    close: () => connection.close(),
  };
}

/** The real client: per instance `client.start(name, input, { instanceId })`, then `client.waitForCompletion(instanceId)`. */
export async function clientLane(url: string, label: string, timeoutMs: number): Promise<OrchestrationLane> {
  const client = await connect(url, { clientId: "bench-orchestrations" });
  return {
    start(name, instances, round) {
      for (const { instanceId, input } of instances) {
        round.sent(instanceId, performance.now());
        client
          .start(name, input, { instanceId })
          .then(() => {
            round.durable(instanceId, performance.now());
            return client.waitForCompletion(instanceId, { timeoutMs });
          })
          .then(
            (status) => round.status(instanceId, status, performance.now()),
            (error: unknown) => round.error(instanceId, `${label}: ${error instanceof Error ? error.message : String(error)}`, performance.now()),
          );
      }
    },
    close: () => client.close(),
  };
}
