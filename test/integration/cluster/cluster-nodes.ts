import type { ChildProcess } from "node:child_process";
import type { NatsConnection } from "nats";
import { decodeEntry } from "../../../src/cluster/log-entry.js";
import { partitionInboxAddress, partitionLogAddress } from "../../../src/cluster/log-names.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { freePort, tempDataDir } from "../support/test-server.js";
import { killAndWait, startServerProcess } from "../support/server-process.js";

/** A node of a test cluster: a `durable-entities serve --cluster` process with a data directory of its own. */
export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  stderr(): string;
}

/** Starts `serve --cluster` processes (the demo app) against the given NATS servers, one after another, and stops them. */
export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  private readonly dirs: Array<{ cleanup(): void }> = [];

  constructor(
    private readonly natsUrls: readonly string[],
    private readonly leaseMs = 2_000,
  ) {}

  async start(name: string): Promise<ClusterNode> {
    const dir = tempDataDir();
    this.dirs.push(dir);
    const port = await freePort();
    const args = ["--data", dir.path, "--port", String(port), "--cluster", this.natsUrls.join(","), "--node", name, "--lease-ms", String(this.leaseMs)];
    const started = await startServerProcess(args);
    const node = { name, ...started };
    this.nodes.push(node);
    return node;
  }

  /** Like start(), on a given port (a node that takes the place of one that died: its clients reconnect to the same URL), with more `serve` options if given. */
  async startAt(name: string, port: number, extraArgs: readonly string[] = []): Promise<ClusterNode> {
    const dir = tempDataDir();
    this.dirs.push(dir);
    const args = ["--data", dir.path, "--port", String(port), "--cluster", this.natsUrls.join(","), "--node", name, "--lease-ms", String(this.leaseMs), ...extraArgs];
    const started = await startServerProcess(args);
    const node = { name, ...started };
    this.nodes.push(node);
    return node;
  }

  /**
   * The partitions one node says it serves now (its /healthz), or undefined when it does not answer
   * within `timeoutMs` (paused, dying) or has exited.
   */
  async partitionsOf(node: ClusterNode, timeoutMs = 2_000): Promise<number[] | undefined> {
    if (node.child.exitCode !== null || node.child.signalCode !== null) return undefined;
    try {
      const response = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
      const health = (await response.json()) as { cluster?: { partitions: number[] } };
      return health.cluster?.partitions ?? [];
    } catch {
      return undefined;
    }
  }

  /** Waits until the named nodes together serve all `partitions`, each exactly once (nodes not named are not asked). */
  async untilServedBy(names: readonly string[], partitions: number, timeoutMs = 60_000): Promise<Map<string, number[]>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const owned = new Map<string, number[]>();
      for (const node of this.nodes.filter((candidate) => names.includes(candidate.name))) {
        const served = await this.partitionsOf(node);
        if (served !== undefined) owned.set(node.name, served);
      }
      const all = [...owned.values()].flat();
      if (all.length === partitions && new Set(all).size === partitions) return owned;
      if (Date.now() > deadline) throw new Error(`partitions not served by ${names.join(", ")} within ${timeoutMs} ms: ${JSON.stringify(Object.fromEntries(owned))}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The partitions each node says it serves now (its /healthz), by node name; a node that does not answer is left out. */
  async ownership(): Promise<Map<string, number[]>> {
    const owned = new Map<string, number[]>();
    for (const node of this.nodes) {
      if (node.child.exitCode !== null || node.child.signalCode !== null) continue;
      try {
        const health = (await (await fetch(`${node.url}/healthz`)).json()) as { cluster?: { partitions: number[] } };
        owned.set(node.name, health.cluster?.partitions ?? []);
      } catch {
        // not answering (paused, or dying)
      }
    }
    return owned;
  }

  /** Waits until the live nodes share all `partitions` exactly once, each holding at least `least`. */
  async untilSpread(partitions: number, least: number, timeoutMs = 60_000): Promise<Map<string, number[]>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const owned = await this.ownership();
      const all = [...owned.values()].flat();
      if (all.length === partitions && new Set(all).size === partitions && [...owned.values()].every((list) => list.length >= least)) return owned;
      if (Date.now() > deadline) throw new Error(`partitions not spread within ${timeoutMs} ms: ${JSON.stringify(Object.fromEntries(owned))}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => killAndWait(node.child, "SIGKILL")));
    for (const dir of this.dirs) dir.cleanup();
  }
}

/**
 * For failure reports: what a partition's log says of one entity, entry by entry — sequence, batch id
 * (its writer node first), milliseconds since `originMs`, the record's version and state, and the
 * signal marks written with it (client name: last signal number applied).
 */
export async function entityHistory(connection: NatsConnection, id: string, originMs: number, hub = "default", partitions = 16): Promise<string> {
  const partition = partitionOf(id, partitions);
  const { stream } = partitionLogAddress(hub, partition);
  const jsm = await connection.jetstreamManager();
  const { first_seq: first, last_seq: last } = (await jsm.streams.info(stream)).state;
  const steps: string[] = [];
  for (let sequence = Math.max(1, first); sequence <= last; sequence++) {
    const message = await jsm.streams.getMessage(stream, { seq: sequence });
    let writes: ReturnType<typeof decodeEntry>;
    try {
      writes = decodeEntry(message.data);
    } catch {
      continue; // a chunk of a large entry: none of the tests' entries are
    }
    const parts = writes
      .filter(({ key }) => (key[1] === "e" || key[1] === "s") && key[2] === id)
      .map(({ key, value }) => {
        if (key[1] === "s") {
          const [seq, , clientId] = JSON.parse(value!) as [number, number, string];
          return `mark(${clientId.split("/")[0]})=${seq}`;
        }
        const record = value === undefined ? undefined : (JSON.parse(value) as { version: number; state: unknown });
        return `v${record?.version}=${JSON.stringify(record?.state)}`;
      });
    if (parts.length === 0) continue;
    const atMs = Date.parse(message.timestamp.replace(/(\.\d{3})\d*/, "$1"));
    steps.push(`${sequence}:${message.header.get("Nats-Msg-Id")}@${atMs - originMs}:${parts.join(",")}`);
  }
  return `${id} (partition ${partition}): ${steps.join(" ")}`;
}

/**
 * For failure reports: every message of every partition's log and inbox whose text holds `needle` (an
 * instance or entity id), in stream order, as `stream seq msgId @ms-since-origin: text` (text cut short).
 */
export async function traceInStreams(connection: NatsConnection, needle: string, originMs: number, hub = "default", partitions = 16): Promise<string[]> {
  const jsm = await connection.jetstreamManager();
  const decoder = new TextDecoder();
  const found: string[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    for (const { stream } of [partitionLogAddress(hub, partition), partitionInboxAddress(hub, partition)]) {
      let state: { first_seq: number; last_seq: number };
      try {
        state = (await jsm.streams.info(stream)).state;
      } catch {
        continue;
      }
      for (let sequence = Math.max(1, state.first_seq); sequence <= state.last_seq; sequence++) {
        const message = await jsm.streams.getMessage(stream, { seq: sequence }).catch(() => undefined);
        if (message === undefined) continue;
        const text = decoder.decode(message.data);
        let at = text.indexOf(needle);
        if (at < 0) continue;
        const excerpts: string[] = [];
        while (at >= 0 && excerpts.length < 6) {
          excerpts.push(text.slice(Math.max(0, at - 160), at + 240));
          at = text.indexOf(needle, at + 240);
        }
        const atMs = Date.parse(message.timestamp.replace(/(\.\d{3})\d*/, "$1"));
        found.push(`${stream} ${sequence} ${message.header?.get("Nats-Msg-Id") ?? ""} @${atMs - originMs}: ${excerpts.join(" … ")}`);
      }
    }
  }
  return found;
}
