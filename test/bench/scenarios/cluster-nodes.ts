/**
 * What the cluster scenarios run on: NATS (one nats-server, or a three-server JetStream cluster, from
 * test/support/nats-servers.ts) and `durable-entities serve --cluster` nodes, each its own process on
 * a fresh data directory. A node is the CLI from src/ run through tsx (as server-entry.ts runs src/),
 * so no build is needed and the bench measures the working tree.
 *
 * Cluster scenarios start their own servers: the runner starts none for them (see run.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "../../../clients/index.js";
import { startNatsCluster, startNatsServer, type NatsServers } from "../../support/nats-servers.js";
import { onExit, track } from "../children.js";
import { printProfileSummary, summarizeProfile } from "../cpu-profile-summary.js";
import { info, type Figure, type ScenarioResult } from "../report.js";
import { cpuSecondsOf, type TransportName } from "../server-process.js";
import { cpuPercent, now, type Driver } from "./scenario.js";

/** The hub's partitions (the server's default): what /healthz of the live nodes must cover. */
export const PARTITIONS = 16;

export interface ClusterScenarioContext {
  readonly quick: boolean;
  readonly driver: Driver;
  readonly window: number;
  readonly transport: TransportName;
  /** A fresh directory for this run's node data directories. */
  readonly dataRoot: string;
  /** With --profile: the nodes run with node --cpu-prof into this directory. */
  readonly cpuProfileDir: string | undefined;
}

/** A scenario that starts its own NATS servers and nodes (run.ts starts no server for it). */
export interface ClusterScenario {
  readonly name: string;
  readonly cluster: true;
  /** The scenario's load can go through either driver (it is run once per driver asked for). */
  readonly usesDriver?: boolean;
  run(context: ClusterScenarioContext): Promise<ScenarioResult>;
}

export function isClusterScenario(scenario: { readonly name: string }): scenario is ClusterScenario {
  return (scenario as Partial<ClusterScenario>).cluster === true;
}

const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;
/** Log lines of a node passed on to the bench's stderr; later ones are only counted (logSummary). */
const MAX_LINES_PASSED_ON = 10;

/** One `serve --cluster` process. */
export class ClusterNode {
  /** Set when the bench itself stopped or killed the node: its exit is then expected. */
  private ending = false;
  private stderrTail = "";
  /** Resolves, with a description, when the process exits (for whatever reason). */
  readonly exited: Promise<string>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly pid: number,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(`exited (code ${child.exitCode}, signal ${child.signalCode})`);
      else child.once("exit", (code, signal) => resolve(`exited (code ${code}, signal ${signal})`));
    });
    let partial = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      // The node logs at warn and above: keep the end for an error message, count the messages, and
      // pass the first lines on.
      const text = chunk.toString("utf8");
      this.stderrTail = (this.stderrTail + text).slice(-4_000);
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      for (const line of lines) this.logLine(line);
    });
  }

  private readonly messages = new Map<string, number>();
  private linesPassedOn = 0;

  private logLine(line: string): void {
    if (line.trim() === "") return;
    let message = line.slice(0, 200);
    try {
      const parsed = JSON.parse(line) as { level?: string; msg?: string };
      message = `${parsed.level ?? "?"}: ${parsed.msg ?? line.slice(0, 200)}`;
    } catch {
      // not a JSON log line
    }
    this.messages.set(message, (this.messages.get(message) ?? 0) + 1);
    if (this.linesPassedOn++ < MAX_LINES_PASSED_ON) process.stderr.write(`[node ${this.name}] ${line}\n`);
    else if (this.linesPassedOn === MAX_LINES_PASSED_ON + 1) process.stderr.write(`[node ${this.name}] … (further log lines are only counted)\n`);
  }

  /** What the node logged (warn and above), as "count × level: message", most frequent first; empty when nothing. */
  logSummary(): string[] {
    return [...this.messages].sort((a, b) => b[1] - a[1]).map(([message, count]) => `${count} × ${message}`);
  }

  static async start(options: { name: string; natsUrls: readonly string[]; replicas: number; leaseMs?: number; dataDir: string; transport: TransportName; cpuProfileDir?: string }): Promise<ClusterNode> {
    mkdirSync(options.dataDir, { recursive: true });
    const execArgv = ["--import", "tsx"];
    if (options.cpuProfileDir) execArgv.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`);
    const args = ["serve", "--data", options.dataDir, "--host", "127.0.0.1", "--port", "0", "--transport", options.transport];
    args.push("--cluster", options.natsUrls.join(","), "--node", options.name, "--replicas", String(options.replicas));
    if (options.leaseMs !== undefined) args.push("--lease-ms", String(options.leaseMs));
    const child = track(
      spawn(process.execPath, [...execArgv, CLI, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DURABLE_ENTITIES_LOG: process.env.DURABLE_ENTITIES_LOG ?? "warn" },
      }),
    );
    let stderr = "";
    const collect = (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4_000));
    child.stderr!.on("data", collect);
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(() => reject(new Error(`node ${options.name} did not listen within ${STARTUP_TIMEOUT_MS / 1000} s: ${stderr}`)), STARTUP_TIMEOUT_MS);
      child.stdout!.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
        const match = /serving (https?:\/\/\S+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`node ${options.name} exited (code ${code}, signal ${signal}) before it listened: ${stderr}`));
      });
    }).catch((error: unknown) => {
      child.kill("SIGKILL");
      throw error;
    });
    child.stderr!.off("data", collect);
    child.stdout!.resume();
    const node = new ClusterNode(options.name, child, child.pid!, url);
    node.stderrTail = stderr;
    for (const line of stderr.split("\n")) node.logLine(line);
    return node;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Rejects if the node exits without the bench asking it to. */
  unexpectedExit(): Promise<never> {
    return this.exited.then((reason) => {
      if (this.ending) return new Promise<never>(() => {});
      throw new Error(`node ${this.name} ${reason} during the run${this.stderrTail ? `; its last output: ${this.stderrTail.trim().slice(-1_000)}` : ""}`);
    });
  }

  /** The partitions this node says it serves (its /healthz), or undefined when it does not answer. */
  async partitions(timeoutMs = 2_000): Promise<number[] | undefined> {
    try {
      const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
      const health = (await response.json()) as { cluster?: { partitions?: number[] } };
      return health.cluster?.partitions ?? [];
    } catch {
      return undefined;
    }
  }

  /** CPU seconds of the whole process, and of its main (JavaScript) thread. */
  cpuSeconds(): { process: number | undefined; mainThread: number | undefined } {
    return { process: cpuSecondsOf(this.pid), mainThread: cpuSecondsOf(this.pid, this.pid) };
  }

  /** The kernel's high-water mark of the node's resident memory, in bytes (undefined off Linux or once it exited). */
  peakRssBytes(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
      const kib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
      return Number.isFinite(kib) ? kib * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGKILL: a crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    this.ending = true;
    if (!this.alive) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM (it finishes queued work, and writes its CPU profile when profiling); SIGKILL after 15 s. */
  async stop(): Promise<void> {
    this.ending = true;
    if (!this.alive) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface BenchClusterOptions {
  /** 1: one nats-server; 3: a three-server JetStream cluster. */
  readonly natsServers: 1 | 3;
  readonly nodes: readonly string[];
  readonly replicas: number;
  /** --lease-ms; absent: the server's default. */
  readonly leaseMs?: number;
  readonly transport: TransportName;
  readonly dataRoot: string;
  readonly cpuProfileDir?: string;
}

export class BenchCluster {
  private stopped = false;
  private natsStopped = false;

  private constructor(
    readonly nats: NatsServers,
    readonly nodes: ClusterNode[],
    private readonly cpuProfileDir: string | undefined,
  ) {}

  /** Starts NATS, then the nodes one after another, and waits until every node serves its share of the partitions. */
  static async start(options: BenchClusterOptions): Promise<BenchCluster> {
    const nats = options.natsServers === 3 ? await startNatsCluster(3) : await startNatsServer();
    const cluster = new BenchCluster(nats, [], options.cpuProfileDir);
    // The bench's exit hooks kill what it tracks; the nats-servers are started elsewhere, so kill them too
    // if the bench is interrupted (their SIGKILLs go out synchronously).
    onExit(() => {
      if (!cluster.natsStopped) void nats.stop();
    });
    try {
      for (const [index, name] of options.nodes.entries()) {
        // Each node lists every NATS server, starting from a different one.
        const natsUrls = nats.urls.map((_, i) => nats.urls[(index + i) % nats.urls.length]!);
        cluster.nodes.push(
          await ClusterNode.start({ name, natsUrls, replicas: options.replicas, leaseMs: options.leaseMs, dataDir: join(options.dataRoot, name), transport: options.transport, cpuProfileDir: options.cpuProfileDir }),
        );
      }
      const least = options.nodes.length === 1 ? PARTITIONS : Math.floor(PARTITIONS / options.nodes.length) - 1;
      await cluster.untilEveryPartitionOwned({ least, timeoutMs: 60_000 });
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  node(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  /** A note per node that logged anything (warn and above). */
  logNotes(): string[] {
    return this.nodes.flatMap((node) => {
      const summary = node.logSummary();
      return summary.length === 0 ? [] : [`node ${node.name} logged: ${summary.slice(0, 5).join("; ")}${summary.length > 5 ? `; and ${summary.length - 5} other messages` : ""}`];
    });
  }

  /** Rejects when any node exits without the bench asking it to. */
  unexpectedExit(): Promise<never> {
    return Promise.race(this.nodes.map((node) => node.unexpectedExit()));
  }

  /** What each live node says it serves, by name (a node that does not answer is left out). */
  async ownership(timeoutMs?: number): Promise<Map<string, number[]>> {
    const live = this.nodes.filter((node) => node.alive);
    const answers = await Promise.all(live.map((node) => node.partitions(timeoutMs)));
    const owned = new Map<string, number[]>();
    live.forEach((node, i) => {
      if (answers[i] !== undefined) owned.set(node.name, answers[i]!);
    });
    return owned;
  }

  /**
   * Polls the live nodes' /healthz every `pollMs` until they serve every partition exactly once (each
   * node at least `least`); resolves with the ownership and the time (now()) of the poll that saw it.
   */
  async untilEveryPartitionOwned(options: { least?: number; timeoutMs: number; pollMs?: number }): Promise<{ owned: Map<string, number[]>; at: number }> {
    const deadline = now() + options.timeoutMs;
    for (;;) {
      const polledAt = now();
      const owned = await this.ownership(1_000);
      const all = [...owned.values()].flat();
      if (all.length === PARTITIONS && new Set(all).size === PARTITIONS && [...owned.values()].every((list) => list.length >= (options.least ?? 0))) return { owned, at: polledAt };
      if (now() > deadline) throw new Error(`the partitions were not all owned within ${options.timeoutMs} ms: ${JSON.stringify(Object.fromEntries(owned))}`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, polledAt + (options.pollMs ?? 200) - now())));
    }
  }

  /** CPU seconds of the NATS servers (all of them, whole processes), when their pids can be read. */
  natsCpuSeconds(): number | undefined {
    // nats-servers.ts keeps its child processes to itself; read their pids if it still has them there.
    const children = (this.nats as unknown as { children?: ChildProcess[] }).children;
    if (!Array.isArray(children)) return undefined;
    let total = 0;
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      const seconds = cpuSecondsOf(child.pid);
      if (seconds === undefined) return undefined;
      total += seconds;
    }
    return total;
  }

  /**
   * Stops the nodes (SIGTERM, so that profiles get written) and the NATS servers. With --profile,
   * prints each stopped node's CPU profile over `windowUs` (monotonic µs).
   */
  async stop(windowUs?: readonly [number, number]): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.nodes.map((node) => node.stop()));
    this.natsStopped = true;
    await this.nats.stop();
    if (this.cpuProfileDir) printNodeProfiles(this.cpuProfileDir, this.nodes, windowUs);
  }
}

/** Each node's main-thread profile (CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile), summarised over the window. */
function printNodeProfiles(dir: string, nodes: readonly ClusterNode[], windowUs: readonly [number, number] | undefined): void {
  const files = readdirSync(dir).filter((file) => file.endsWith(".cpuprofile"));
  for (const node of nodes) {
    const file = files.find((f) => f.split(".")[3] === String(node.pid) && f.split(".")[4] === "0");
    if (!file) {
      console.log(`node ${node.name} (pid ${node.pid}): no CPU profile (it was killed, or did not exit cleanly)`);
      continue;
    }
    console.log(`node ${node.name} CPU profile: ${join(dir, file)}${windowUs ? `, the measured ${((windowUs[1] - windowUs[0]) / 1e6).toFixed(1)} s only (monotonic µs ${windowUs[0]} ${windowUs[1]})` : ""}`);
    printProfileSummary(summarizeProfile(join(dir, file), windowUs), 20);
  }
}

/**
 * Measures, from now until the returned function is called, the CPU use of the nodes, the NATS
 * servers, the load processes (`loadPids`) and the whole machine; what the machine spent beyond those
 * is other work on a shared machine (the bench runner itself included), which the figures also show.
 */
export function clusterCpuMeter(cluster: BenchCluster, loadPids: readonly number[] = []): () => { figures: Figure[]; json: Record<string, unknown> } {
  const startedAt = now();
  const nodes0 = cluster.nodes.map((node) => node.cpuSeconds());
  const nats0 = cluster.natsCpuSeconds();
  const load0 = loadPids.map((pid) => cpuSecondsOf(pid));
  const machine0 = machineCpu();
  return () => {
    const elapsed = now() - startedAt;
    const figures: Figure[] = [];
    const json: Record<string, unknown> = {};
    let ours = 0;
    cluster.nodes.forEach((node, i) => {
      const after = node.cpuSeconds();
      // A node the scenario killed meanwhile has no reading (its CPU is gone with its /proc entry).
      if (after.process === undefined && !node.alive) return;
      const processPct = cpuPercent(nodes0[i]!.process, after.process, elapsed);
      const mainPct = cpuPercent(nodes0[i]!.mainThread, after.mainThread, elapsed);
      ours += processPct ?? 0;
      figures.push(info(`node ${node.name} CPU, process (JS thread)`, processPct ?? Number.NaN, `% of a core (${mainPct === undefined ? "?" : Math.round(mainPct)} %)`));
      json[`node_${node.name}_cpuPct`] = processPct === undefined ? undefined : Math.round(processPct);
      json[`node_${node.name}_jsThreadCpuPct`] = mainPct === undefined ? undefined : Math.round(mainPct);
    });
    const natsPct = cpuPercent(nats0, cluster.natsCpuSeconds(), elapsed);
    ours += natsPct ?? 0;
    figures.push(info("NATS servers' CPU (all)", natsPct ?? Number.NaN, "% of a core"));
    json.natsCpuPct = natsPct === undefined ? undefined : Math.round(natsPct);
    if (loadPids.length > 0) {
      const loadPct = loadPids.reduce((sum, pid, i) => sum + (cpuPercent(load0[i], cpuSecondsOf(pid), elapsed) ?? 0), 0);
      ours += loadPct;
      figures.push(info("load processes' CPU", loadPct, "% of a core"));
      json.loadCpuPct = Math.round(loadPct);
    }
    const machine1 = machineCpu();
    if (machine0 && machine1 && machine1.total > machine0.total) {
      const busy = 100 * (1 - (machine1.idle - machine0.idle) / (machine1.total - machine0.total));
      const busyCores = (busy / 100) * cpus().length * 100;
      figures.push(info("machine CPU busy", Math.round(busy), "% of all cores"));
      figures.push(info("CPU of other processes (shared machine)", Math.max(0, busyCores - ours), "% of a core"));
      json.machineBusyPct = Math.round(busy);
      json.otherProcessesCpuPct = Math.round(Math.max(0, busyCores - ours));
    }
    return { figures, json };
  };
}

/** Idle and total jiffies of all CPUs (/proc/stat), or undefined off Linux. */
function machineCpu(): { idle: number; total: number } | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: idle time is idle + iowait.
    return { idle: fields[3]! + (fields[4] ?? 0), total: fields.slice(0, 8).reduce((sum, value) => sum + value, 0) };
  } catch {
    return undefined;
  }
}

/**
 * Reads every counter back (the real client, through `url`) and compares it with the acks its signals
 * got. Counters below their acks lost acknowledged signals (or the read did not see them: a counter
 * below is read once more after `rereadAfterMs`, and both readings are reported); counters above them
 * applied signals that were not acknowledged, which only signals that failed (`failedSignals`, whose
 * errors may not say whether they were applied) or were still unanswered may explain.
 */
export async function checkCounters(url: string, expected: ReadonlyMap<string, number>, failedSignals: number, rereadAfterMs = 10_000): Promise<{ failures: string[]; notes: string[] }> {
  const read = async () => {
    const client = await connect(url);
    try {
      const ids = [...expected.keys()];
      const values = await Promise.all(ids.map((id) => client.get<number>(id)));
      return new Map(ids.map((id, i) => [id, values[i] ?? 0]));
    } finally {
      await client.close();
    }
  };
  const describe = (values: ReadonlyMap<string, number>) => {
    let below = 0;
    let missing = 0;
    let above = 0;
    let extra = 0;
    const examples: string[] = [];
    for (const [id, want] of expected) {
      const got = values.get(id) ?? 0;
      if (got < want) {
        below++;
        missing += want - got;
        if (examples.length < 3) examples.push(`${id} is ${got}, ${want} acked`);
      } else if (got > want) {
        above++;
        extra += got - want;
      }
    }
    return { below, missing, above, extra, examples };
  };
  const failures: string[] = [];
  const notes: string[] = [];
  let first = describe(await read());
  if (first.below > 0) {
    notes.push(`first read-back: ${first.below} counters below their acks (${first.missing} acked signals not seen, e.g. ${first.examples.join("; ")}); read again in ${rereadAfterMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, rereadAfterMs));
    first = describe(await read());
  }
  if (first.below > 0) failures.push(`${first.below} counters are below the acks their signals got: ${first.missing} acknowledged signals are not applied (e.g. ${first.examples.join("; ")})`);
  if (first.above > 0) {
    const what = `${first.above} counters are above their acks: ${first.extra} signals applied that were never acknowledged`;
    failures.push(first.extra <= failedSignals ? `${what} (${failedSignals} signals failed with an error: some of those were applied)` : `${what}, more than the ${failedSignals} that failed with an error`);
  }
  return { failures, notes };
}
