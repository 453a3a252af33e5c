import { existsSync } from "node:fs";
import { join } from "node:path";
import { canonicalTaskHubName, DEFAULT_TASK_HUB, ErrorCode, TASK_HUB_NAME_RULE } from "../../protocol/index.js";
import { DataDirInUseError } from "../storage/index.js";
import { TaskHub, type TaskHubSettings } from "./task-hub.js";

/** A hub that cannot be had, with the code to answer with. */
export class TaskHubError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where a hub's store lives: the `default` hub in the data directory itself (so data directories from
 * before hubs keep their state), any other in `hubs/<name>` under it. Each is an LMDB environment with
 * its own lock, so two servers on one data directory can serve two hubs side by side (two versions of
 * an app), and never the same one.
 */
export function taskHubPath(dataDir: string, name: string): string {
  return name === DEFAULT_TASK_HUB ? dataDir : join(dataDir, "hubs", name);
}

export interface TaskHubsOptions {
  readonly dataDir: string;
  /** The hub of clients and requests that name none (the server's `--hub`). */
  readonly defaultHub: string;
  /** Most hubs open at once (the server's own included). */
  readonly maxHubs: number;
  readonly settings: TaskHubSettings;
}

/**
 * The task hubs a server serves: its own, opened at start, and any other a connection or request names,
 * opened on first use (when no other server holds it) and kept open until the server stops.
 */
export class TaskHubs {
  readonly defaultName: string;
  private readonly hubs = new Map<string, TaskHub>();
  private readonly opening = new Map<string, Promise<TaskHub>>();
  private closed = false;

  constructor(private readonly options: TaskHubsOptions) {
    const name = canonicalTaskHubName(options.defaultHub);
    if (name === undefined) throw new TaskHubError(ErrorCode.bad_request, `the hub name "${options.defaultHub}" is not valid: it must be ${TASK_HUB_NAME_RULE}`);
    this.defaultName = name;
  }

  /**
   * The hub named (case does not matter), or the default one; opens it on first use. Rejects with a
   * {@link TaskHubError}: with `create: false`, `not_found` for a hub that does not exist yet (a request
   * that only reads, or acts on what exists, creates nothing on disk and takes none of --max-hubs).
   */
  get(requested?: string, options: { readonly create?: boolean } = {}): Promise<TaskHub> {
    let name: string;
    try {
      name = this.resolveName(requested);
    } catch (error) {
      return Promise.reject(error);
    }
    const hub = this.hubs.get(name);
    if (hub) return Promise.resolve(hub);
    let opening = this.opening.get(name);
    if (opening) return opening;
    if (this.closed) return Promise.reject(new TaskHubError(ErrorCode.shutting_down, "the server is shutting down"));
    if (options.create === false && !existsSync(join(taskHubPath(this.options.dataDir, name), "data.mdb"))) {
      return Promise.reject(new TaskHubError(ErrorCode.not_found, `there is no task hub "${name}" yet (a start or a signal that names it creates it)`));
    }
    if (this.hubs.size + this.opening.size >= this.options.maxHubs) {
      return Promise.reject(new TaskHubError(ErrorCode.hub_unavailable, `this server already serves ${this.options.maxHubs} task hubs (its --max-hubs); hub "${name}" is not open`));
    }
    opening = this.open(name);
    this.opening.set(name, opening);
    return opening;
  }

  /** The hub when it is open already (so a connection to it needs no wait). */
  peek(requested?: string): TaskHub | undefined {
    const name = canonicalTaskHubName(requested ?? this.defaultName);
    return name === undefined ? undefined : this.hubs.get(name);
  }

  /** The hubs open now, the default one first. */
  list(): TaskHub[] {
    return [...this.hubs.values()];
  }

  /** Closes every hub (each finishes its queued work and makes it durable). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.opening.values());
    await Promise.all([...this.hubs.values()].map((hub) => hub.close()));
  }

  /** For a fatal error: every hub stops at once and lets its commit in flight settle. */
  async abort(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.opening.values());
    await Promise.all([...this.hubs.values()].map((hub) => hub.abort()));
  }

  private resolveName(requested: string | undefined): string {
    if (requested === undefined || requested === "") return this.defaultName;
    const name = canonicalTaskHubName(requested);
    if (name === undefined) throw new TaskHubError(ErrorCode.bad_request, `the task hub name ${JSON.stringify(requested.slice(0, 64))} is not valid: it must be ${TASK_HUB_NAME_RULE}`);
    return name;
  }

  private async open(name: string): Promise<TaskHub> {
    try {
      const hub = await TaskHub.open(name, taskHubPath(this.options.dataDir, name), this.options.settings);
      if (this.closed) {
        await hub.close();
        throw new TaskHubError(ErrorCode.shutting_down, "the server is shutting down");
      }
      this.hubs.set(name, hub);
      return hub;
    } catch (error) {
      if (error instanceof DataDirInUseError && name !== this.defaultName) {
        throw new TaskHubError(ErrorCode.hub_unavailable, `task hub "${name}" is served by another server on this data directory; ask that server`);
      }
      throw error;
    } finally {
      this.opening.delete(name);
    }
  }
}
