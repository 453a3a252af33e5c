import type { ChildProcess } from "node:child_process";
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

  /** Like start(), on a given port: a node that takes the place of one that died (its clients reconnect to the same URL). */
  async startAt(name: string, port: number): Promise<ClusterNode> {
    const dir = tempDataDir();
    this.dirs.push(dir);
    const args = ["--data", dir.path, "--port", String(port), "--cluster", this.natsUrls.join(","), "--node", name, "--lease-ms", String(this.leaseMs)];
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
