/**
 * `cluster-failover`: three `serve --cluster` nodes on a three-server NATS JetStream cluster (3
 * replicas, leases of LEASE_MS), under a light steady load: one load process per node
 * (`workers/cluster-steady-load.ts`, the real client given all three URLs, its own node first),
 * RATE_PER_PROCESS signals/s each across `Counter/c0..c999` (`cluster-failover-trickle`: a tenth of
 * that, so that what the load itself does to the failover shows). After the warm-up one node is SIGKILLed;
 * the bench then polls the survivors' /healthz until they serve every partition again, keeps the load
 * going a while longer, and reads every counter back.
 *
 * Figures (times from the SIGKILL; informational, the issue sets no target):
 * - partitions owned again: the first /healthz poll (every POLL_MS) at which the survivors serve all
 *   16 partitions, each once;
 * - first ack at the dead node's clients: the first acknowledgment the killed node's load process
 *   receives after the node's exit was seen (its client has reconnected to another node by then);
 * - every signal in flight at the kill acknowledged: the last ack of a signal sent before the kill
 *   (the ones on the dead node's partitions wait for its leases to run out; NaN when none was in flight);
 * - the longest time a signal sent after the kill waited for its ack (one for a dead node's partition
 *   waits until a survivor has taken it);
 * - the survivors' clients' longest pause between two acks from the kill on.
 * Correctness: no signal fails, every counter equals the acks its signals got (each applied once).
 */
import { startWorker, type Worker } from "../children.js";
import { info, round, type ScenarioResult } from "../report.js";
import { BenchCluster, checkCounters, clusterCpuMeter, type ClusterScenario, type ClusterScenarioContext } from "./cluster-nodes.js";
import { all, now, stopWorkers } from "./scenario.js";

/** --lease-ms of the nodes: the server's default (src/cluster/partition-leases.ts), given explicitly so the figure says what it was measured with. */
const LEASE_MS = 5_000;
/** Signals per second each of the three load processes offers (`cluster-failover`; the trickle variant offers a tenth). */
const RATE_PER_PROCESS = 200;
const POLL_MS = 25;
const VICTIM = 1;

interface Done {
  sentAt: number[];
  ackedAt: number[];
  perTarget: number[];
  issued: number;
  skipped: number;
  errors: number;
  firstError?: string;
  drainTimedOut: boolean;
  cpuSeconds: number;
}

export const clusterFailover: ClusterScenario = { name: "cluster-failover", cluster: true, run: (context) => runFailover("cluster-failover", RATE_PER_PROCESS, context) };
export const clusterFailoverTrickle: ClusterScenario = {
  name: "cluster-failover-trickle",
  cluster: true,
  run: (context) => runFailover("cluster-failover-trickle", RATE_PER_PROCESS / 10, context),
};

async function runFailover(name: string, ratePerProcess: number, context: ClusterScenarioContext): Promise<ScenarioResult> {
  const targets = Array.from({ length: 1000 }, (_, i) => `Counter/c${i}`);
  const warmupMs = context.quick ? 2_000 : 4_000;
  const afterMs = context.quick ? 2_000 : 5_000;
  const nodes = ["n0", "n1", "n2"];

  const cluster = await BenchCluster.start({ natsServers: 3, nodes, replicas: 3, leaseMs: LEASE_MS, transport: context.transport, dataRoot: context.dataRoot, cpuProfileDir: context.cpuProfileDir });
  const workers: Worker[] = [];
  try {
    const urls = cluster.urls;
    for (let p = 0; p < nodes.length; p++) {
      workers.push(
        startWorker("cluster-steady-load", `${name} load ${p} (node ${nodes[p]})`, {
          urls: urls.map((_, i) => urls[(p + i) % urls.length]!),
          targets,
          ratePerSec: ratePerProcess,
          maxInflight: 5_000,
          firstTarget: p * 333,
          disconnectTimeoutMs: 120_000,
        }),
      );
    }
    const victim = cluster.nodes[VICTIM]!;
    const survivors = cluster.nodes.filter((node) => node !== victim);

    const run = async () => {
      await all(workers, "ready", 60_000);
      const startAt = now() + 300;
      for (const worker of workers) worker.send({ type: "go", startAt });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt + warmupMs - now())));
      const ownedBefore = await cluster.ownership();
      const cpu = clusterCpuMeter(cluster, workers.map((worker) => worker.child.pid!));
      const killAt = now();
      await victim.kill();
      const exitSeenAt = now();
      const { owned: ownedAfter, at: ownedAgainAt } = await cluster.untilEveryPartitionOwned({ timeoutMs: 60_000, pollMs: POLL_MS });
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      const cpuFigures = cpu();
      for (const worker of workers) worker.send({ type: "stop" });
      const results = await all<Done>(workers, "done", 90_000);
      return { results, ownedBefore, ownedAfter, killAt, exitSeenAt, ownedAgainAt, cpuFigures };
    };
    const { results, ownedBefore, ownedAfter, killAt, exitSeenAt, ownedAgainAt, cpuFigures } = await Promise.race([run(), cluster.unexpectedExit()]);

    const victimDone = results[VICTIM]!;
    const firstAckAfter = victimDone.ackedAt.find((t) => t > exitSeenAt);
    // Signals sent before the kill and acked after it (the ones in flight at the kill), and the longest wait of a signal sent after it.
    let lastInFlightAck: number | undefined;
    let inFlightAtKill = 0;
    let longestWaitAfter = 0;
    for (const r of results) {
      r.sentAt.forEach((sent, i) => {
        const acked = r.ackedAt[i]!;
        if (sent < killAt && acked > killAt) {
          inFlightAtKill++;
          lastInFlightAck = Math.max(lastInFlightAck ?? acked, acked);
        }
        if (sent >= killAt) longestWaitAfter = Math.max(longestWaitAfter, acked - sent);
      });
    }
    const survivorGaps = results.filter((_, p) => p !== VICTIM).map((r) => longestGap(r.ackedAt, killAt));
    const victimGap = longestGap(victimDone.ackedAt, killAt);

    const failures: string[] = [];
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) failures.push(`${errors} signals failed, first: ${results.find((r) => r.firstError)?.firstError}`);
    if (results.some((r) => r.drainTimedOut)) failures.push("some signals were never acknowledged (waited 60 s after the run)");
    if (firstAckAfter === undefined) failures.push(`the killed node's clients got no ack after the kill`);
    const servedBy = [...ownedAfter.keys()].sort();
    if (servedBy.join() !== survivors.map((node) => node.name).sort().join()) failures.push(`after the kill the partitions are served by ${servedBy.join(", ")}`);
    const expected = new Map(targets.map((id, i) => [id, results.reduce((sum, r) => sum + (r.perTarget[i] ?? 0), 0)]));
    const check = await checkCounters(survivors[0]!.url, expected, errors);
    failures.push(...check.failures);

    const acked = results.reduce((sum, r) => sum + r.ackedAt.length, 0);
    const skipped = results.reduce((sum, r) => sum + r.skipped, 0);
    const partitionsMs = ownedAgainAt - killAt;
    const firstAckMs = firstAckAfter === undefined ? Number.NaN : firstAckAfter - killAt;
    const inFlightMs = lastInFlightAck === undefined ? Number.NaN : lastInFlightAck - killAt;
    const victimPartitions = ownedBefore.get(victim.name) ?? [];
    return {
      scenario: name,
      figures: [
        info("partitions owned again (survivors' /healthz)", partitionsMs, "ms after SIGKILL"),
        info("first ack at the dead node's clients", firstAckMs, "ms after SIGKILL"),
        info("every signal in flight at the kill acked", inFlightMs, `ms after SIGKILL (${inFlightAtKill} signals)`),
        info("longest ack wait of a signal sent after the kill", longestWaitAfter, "ms"),
        info("survivors' clients: longest ack pause", Math.max(...survivorGaps), "ms"),
        ...cpuFigures.figures,
      ],
      failures,
      json: {
        partitionsOwnedAgainMs: Math.round(partitionsMs),
        firstAckAtDeadNodesClientsMs: round(firstAckMs, 0),
        inFlightAllAckedMs: Number.isNaN(inFlightMs) ? undefined : Math.round(inFlightMs),
        inFlightAtKill,
        longestAckWaitAfterKillMs: Math.round(longestWaitAfter),
        survivorsLongestAckPauseMs: survivorGaps.map((gap) => Math.round(gap)),
        deadNodesClientsLongestAckPauseMs: Math.round(victimGap),
        exitSeenAfterMs: round(exitSeenAt - killAt, 1),
        pollMs: POLL_MS,
        leaseMs: LEASE_MS,
        killed: victim.name,
        killedNodesPartitions: victimPartitions,
        partitionsAfter: Object.fromEntries(ownedAfter),
        ratePerSec: ratePerProcess * workers.length,
        ackedTotal: acked,
        skipped,
        ...cpuFigures.json,
        verified: failures.length === 0,
      },
      notes: [
        `killed ${victim.name}, which served partitions ${victimPartitions.join(",")}; after: ${[...ownedAfter].map(([node, partitions]) => `${node} ${partitions.join(",")}`).join("; ")}`,
        `leases of ${LEASE_MS} ms; ${ratePerProcess * workers.length} signals/s offered; ${acked} acked${skipped > 0 ? `, ${skipped} not sent (the in-flight cap was reached)` : ""}`,
        ...cluster.logNotes(),
        ...check.notes,
      ],
    };
  } finally {
    await stopWorkers(workers);
    await cluster.stop();
  }
}

/** The longest time between two consecutive acks (or from `from` to the first ack) at or after `from`. */
function longestGap(ackedAt: readonly number[], from: number): number {
  let previous = from;
  let longest = 0;
  for (const at of ackedAt) {
    if (at < from) continue;
    longest = Math.max(longest, at - previous);
    previous = at;
  }
  return longest;
}
