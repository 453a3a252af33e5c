/**
 * `cluster-signals-1000-counters`: durable signals per second across `Counter/c0..c999` through three
 * `serve --cluster` nodes on a three-server NATS JetStream cluster, 3 replicas; one load process per
 * node (the `signal-load` worker of the signal scenarios, its connections all to its node). A signal
 * counts once acknowledged, which in cluster mode means its commit is in the partition's replicated
 * JetStream stream; signals to partitions another node owns are forwarded over NATS.
 *
 * `cluster-1-node-signals-1000-counters`: `signals-1000-counters` itself (2 load processes × 4
 * connections) against one cluster node on one nats-server, 1 replica: beside `signals-1000-counters`
 * it shows what the log alone costs. No target (the issue gives none).
 *
 * `cluster-3-nodes-1-replica-signals-1000-counters`: the three-node load against three nodes on one
 * nats-server, 1 replica: between the two above, it separates forwarding between nodes from the
 * replication of the streams. No target.
 *
 * On a 2-core machine the nodes, the NATS servers and the load share two cores: these runs show the
 * replicated log's overhead, not how a cluster scales.
 */
import { startWorker, type Worker } from "../children.js";
import { atLeast, info, monotonicUs, round, type Figure, type ScenarioResult } from "../report.js";
import { BenchCluster, checkCounters, clusterCpuMeter, type ClusterScenario, type ClusterScenarioContext } from "./cluster-nodes.js";
import { all, now, stopWorkers } from "./scenario.js";

/** Issue 14's target for three nodes (3 replicas). */
const TARGET_PER_SEC = 50_000;

interface Done {
  acked: number;
  inWindow: number;
  perTarget: number[];
  errors: number;
  firstError?: string;
  drainTimedOut: boolean;
  cpuSeconds: number;
}

interface Shape {
  readonly natsServers: 1 | 3;
  readonly nodes: readonly string[];
  readonly replicas: number;
  /** Load processes; process p connects all its connections to node p % nodes. */
  readonly processes: number;
  readonly connectionsPerProcess: number;
  readonly target: number | undefined;
}

export const clusterSignals: ClusterScenario = clusterSignalsScenario("cluster-signals-1000-counters", {
  natsServers: 3,
  nodes: ["n0", "n1", "n2"],
  replicas: 3,
  processes: 3,
  connectionsPerProcess: 3,
  target: TARGET_PER_SEC,
});

export const clusterOneNodeSignals: ClusterScenario = clusterSignalsScenario("cluster-1-node-signals-1000-counters", {
  natsServers: 1,
  nodes: ["n0"],
  replicas: 1,
  processes: 2,
  connectionsPerProcess: 4,
  target: undefined,
});

export const clusterThreeNodesOneReplicaSignals: ClusterScenario = clusterSignalsScenario("cluster-3-nodes-1-replica-signals-1000-counters", {
  natsServers: 1,
  nodes: ["n0", "n1", "n2"],
  replicas: 1,
  processes: 3,
  connectionsPerProcess: 3,
  target: undefined,
});

function clusterSignalsScenario(name: string, shape: Shape): ClusterScenario {
  return { name, cluster: true, usesDriver: true, run: (context) => runClusterSignals(name, shape, context) };
}

async function runClusterSignals(name: string, shape: Shape, context: ClusterScenarioContext): Promise<ScenarioResult> {
  const { quick, driver, window } = context;
  const targets = Array.from({ length: 1000 }, (_, i) => `Counter/c${i}`);
  const durationMs = quick ? 4_000 : 12_000;
  const warmupMs = quick ? 1_000 : 2_000;

  const setupStartedAt = now();
  const cluster = await BenchCluster.start({ natsServers: shape.natsServers, nodes: shape.nodes, replicas: shape.replicas, transport: context.transport, dataRoot: context.dataRoot, cpuProfileDir: context.cpuProfileDir });
  const setupMs = now() - setupStartedAt;
  const ownedBefore = await cluster.ownership();
  const workers: Worker[] = [];
  let profileWindowUs: [number, number] | undefined;
  try {
    const urls = cluster.urls;
    for (let p = 0; p < shape.processes; p++) {
      workers.push(
        startWorker("signal-load", `${name} load ${p}`, {
          url: urls[p % urls.length]!,
          connections: shape.connectionsPerProcess,
          window,
          targets,
          driver,
          firstConnection: p * shape.connectionsPerProcess,
        }),
      );
    }
    const run = async () => {
      await all(workers, "ready", 60_000);
      const startAt = now() + 300;
      for (const worker of workers) worker.send({ type: "go", startAt, warmupMs, durationMs });
      // The measured window (after the warm-up) on the monotonic clock, for the nodes' CPU profiles (printed by cluster.stop).
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt + warmupMs - now())));
      const fromUs = monotonicUs();
      const cpu = clusterCpuMeter(cluster, workers.map((worker) => worker.child.pid!));
      const measuredCpu = new Promise<ReturnType<typeof cpu>>((resolve) =>
        setTimeout(() => {
          profileWindowUs = [fromUs, monotonicUs()];
          resolve(cpu());
        }, Math.max(0, startAt + durationMs - now())),
      );
      const results = await all<Done>(workers, "done", durationMs + 60_000);
      return { results, cpu: await measuredCpu };
    };
    const { results, cpu } = await Promise.race([run(), cluster.unexpectedExit()]);
    const rss = cluster.nodes.map((node) => node.peakRssBytes() ?? Number.NaN);

    const acked = results.reduce((sum, r) => sum + r.acked, 0);
    const inWindow = results.reduce((sum, r) => sum + r.inWindow, 0);
    const perSec = inWindow / ((durationMs - warmupMs) / 1000);

    const failures: string[] = [];
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) failures.push(`${errors} signals failed, first: ${results.find((r) => r.firstError)?.firstError}`);
    if (results.some((r) => r.drainTimedOut)) failures.push("some signals were never acknowledged (waited 30 s after the run)");
    const expected = new Map(targets.map((id, i) => [id, results.reduce((sum, r) => sum + (r.perTarget[i] ?? 0), 0)]));
    // Read back through one node: counters on the others' partitions come through forwarding.
    const check = await checkCounters(urls[0]!, expected, errors);
    failures.push(...check.failures);
    const sum = [...expected.values()].reduce((total, value) => total + value, 0);
    if (sum !== acked) failures.push(`the acks counted per counter add up to ${sum}, but ${acked} signals were acked`);

    const rate: Figure = shape.target === undefined ? info("signals/s", perSec, "/s") : atLeast("signals/s", perSec, "/s", shape.target);
    return {
      scenario: name,
      variant: driver,
      figures: [
        rate,
        ...cpu.figures,
        info("nodes' peak RSS (largest)", Math.max(...rss) / 2 ** 20, "MiB"),
        info("cluster start (NATS + nodes + partitions spread)", setupMs / 1000, "s"),
      ],
      failures,
      json: {
        signalsPerSec: Math.round(perSec),
        ackedTotal: acked,
        measuredSeconds: (durationMs - warmupMs) / 1000,
        counters: targets.length,
        nodes: shape.nodes.length,
        natsServers: shape.natsServers,
        replicas: shape.replicas,
        partitionsByNode: Object.fromEntries([...ownedBefore].map(([node, partitions]) => [node, partitions.length])),
        connections: shape.processes * shape.connectionsPerProcess,
        loadProcesses: shape.processes,
        windowPerConnection: window,
        driver,
        ...cpu.json,
        nodesPeakRssMb: rss.map((bytes) => round(bytes / 2 ** 20, 0)),
        verified: failures.length === 0,
      },
      notes: [`partitions per node at the start: ${[...ownedBefore].map(([node, partitions]) => `${node} ${partitions.length}`).join(", ")}`, ...cluster.logNotes(), ...check.notes],
    };
  } finally {
    await stopWorkers(workers);
    await cluster.stop(profileWindowUs);
  }
}
