import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defineEntity } from "../../../src/index.js";
import { createLogger } from "../../../src/log.js";
import { defineActivity, defineOrchestration, isActive, OrchestrationHost, type InstanceRecord, type OrchestrationContext } from "../../../src/orchestration/index.js";
import { CommitPipeline, EntityRuntime, type EntityChange, type LockHolderCheck, type Outcome } from "../../../src/runtime/index.js";
import { LmdbStore, type EntityStore, type WriteBatch } from "../../../src/storage/index.js";
import { makeTempDir, removeDir } from "../support/temp-dir.js";

/*
 * A failed commit no longer stops the server, property-tested: the real pipeline,
 * EntityRuntime and OrchestrationHost over the real LMDB store, whose commits fail at random for a while
 * (a write past LMDB's key size limit is added to the batch, so LMDB itself refuses the transaction and
 * the store's chaining refuses those queued behind it) and never kill the node. Meanwhile: orchestrations
 * run critical sections over locked cells (as lock-protocol-crash.test.ts), others run activities,
 * durable timers and sub-orchestrations and signal entities; clients signal counters (retrying refused
 * signals under new numbers, as a user would) and start relay chains (entity-to-entity signals). Then
 * failures stop, and everything must end as planned: instances with the right outputs, cells neither
 * overlapped nor lost/doubled, each acknowledged signal applied exactly once and no refused one, every
 * hop of each relay applied once, locks free, mailboxes, timers and work items empty, and the changes
 * published to listeners contiguous (1, 2, 3 …), each one a state that is on disk in the end.
 * REVIEW_FAILURE_RUNS sets the number of runs (default 20), REVIEW_FAILURE_SEED replays a seed.
 */

const CELLS = 4;
const cellId = (index: number) => `Cell/c${index}`;

interface CellState {
  value: number;
  holder: string | null;
  overlaps: string[];
}

const Cell = defineEntity("Cell", {
  initialState: (): CellState => ({ value: 0, holder: null, overlaps: [] }),
  operations: {
    enter: (ctx, who: string) => {
      if (ctx.state.holder !== null) ctx.state.overlaps.push(`${who} entered while ${ctx.state.holder} was inside`);
      ctx.state.holder = who;
    },
    read: (ctx) => ctx.state.value,
    write: (ctx, value: number) => {
      ctx.state.value = value;
    },
    leave: (ctx, who: string) => {
      if (ctx.state.holder !== who) ctx.state.overlaps.push(`${who} left while ${ctx.state.holder} was inside`);
      ctx.state.holder = null;
    },
    bump: (ctx, who: string) => {
      if (ctx.state.holder !== null) ctx.state.overlaps.push(`${who} bumped while ${ctx.state.holder} was inside`);
      ctx.state.value++;
    },
  },
});

/** Counts adds; `seen` lists each add's tag (a doubled or lost add shows). */
const Tally = defineEntity("Tally", {
  initialState: (): { seen: string[] } => ({ seen: [] }),
  operations: {
    add: (ctx, tag: string) => {
      ctx.state.seen.push(tag);
    },
  },
});

/** Relay chains: each hop records the path it got and signals the next. */
const Hop = defineEntity("Hop", {
  initialState: (): string[] => [],
  operations: {
    relay: (ctx, { tag, path }: { tag: string; path: string[] }) => {
      ctx.state.push(tag);
      const [next, ...rest] = path;
      if (next !== undefined) ctx.signalEntity(next, "relay", { tag, path: rest });
    },
  },
});

const Double = defineActivity("Double", async (n: number) => {
  await new Promise((resolve) => setTimeout(resolve, n % 3));
  return n * 2;
});

const Child = defineOrchestration("Child", function* (ctx: OrchestrationContext<number>, n: number) {
  const doubled: number = yield ctx.call(Double, n);
  return doubled + 1;
});

interface WorkInput {
  readonly steps: number[];
  readonly done: number[];
}

/** Activities, timers, sub-orchestrations, a signal to a tally, and a continue-as-new halfway. */
const Work = defineOrchestration("Work", function* (ctx: OrchestrationContext<WorkInput>, { steps, done }: WorkInput) {
  const out = [...done];
  for (let i = 0; i < steps.length; i++) {
    const n = steps[i]!;
    if (n % 4 === 0) out.push(yield ctx.call(Child, n));
    else out.push(yield ctx.call(Double, n));
    if (n % 2 === 1) yield ctx.createTimer(ctx.currentUtcDateTime.getTime() + 2);
    ctx.signalEntity(`Tally/${ctx.instanceId}`, "add", `${ctx.instanceId}:${n}`);
    if (i === 1 && steps.length > 2) {
      ctx.continueAsNew({ steps: steps.slice(2), done: out });
      return out;
    }
  }
  return out;
});

function workOutput(steps: readonly number[]): number[] {
  return steps.map((n) => (n % 4 === 0 ? n * 2 + 1 : n * 2));
}

type SectionEnd = "release" | "return" | "throw";
interface Section {
  readonly cells: readonly number[];
  readonly pauseMs: number;
  readonly end: SectionEnd;
}

const Sections = defineOrchestration("Sections", function* (ctx: OrchestrationContext<Section[]>, sections: Section[]) {
  for (let s = 0; s < sections.length; s++) {
    const section = sections[s]!;
    const who = `${ctx.instanceId}#${s}`;
    const ids = section.cells.map(cellId);
    const lock = yield* ctx.lock(ids);
    for (const id of ids) yield ctx.callEntity(id, "enter", who);
    const values: number[] = [];
    for (const id of ids) values.push(yield ctx.callEntity(id, "read"));
    if (section.pauseMs > 0) yield ctx.createTimer(ctx.currentUtcDateTime.getTime() + section.pauseMs);
    for (let i = 0; i < ids.length; i++) yield ctx.callEntity(ids[i]!, "write", values[i]! + 1);
    for (const id of ids) yield ctx.callEntity(id, "leave", who);
    if (section.end === "return") return s;
    if (section.end === "throw") throw new Error(`planned failure inside ${who}`);
    lock.release();
  }
  return sections.length;
});

interface NodeOptions {
  readonly maxCachedEntities?: number;
  readonly maxCachedInstances?: number;
  readonly lie?: boolean;
}

/** A node whose commits fail (without dying) while `failing(n)` says so for the n-th commit. */
class FlakyNode {
  commits = 0;
  failed = 0;
  private constructor(
    readonly store: LmdbStore,
    readonly runtime: EntityRuntime,
    readonly host: OrchestrationHost,
    readonly fatal: unknown[],
  ) {}

  static async open(dir: string, failing: (commit: number) => boolean, options: NodeOptions = {}): Promise<FlakyNode> {
    const real = await LmdbStore.open({ path: dir });
    const fatal: unknown[] = [];
    let node: FlakyNode | undefined;
    let count = 0;
    const store = Object.assign(Object.create(real) as EntityStore, {
      commit(batch: WriteBatch, onCommitted?: () => void): Promise<void> {
        const fails = failing(++count);
        if (fails && !options.lie) batch.putEntity(`Cell/${"k".repeat(4000)}`, { version: 1, state: 0 });
        // `lie`: the commit reaches the disk but is reported failed (a test of the test's checks).
        const done = fails && options.lie ? real.commit(batch, onCommitted).then(() => Promise.reject(new Error("reported failed"))) : real.commit(batch, onCommitted);
        done.then(
          () => node && node.commits++,
          () => node && node.failed++,
        );
        return done;
      },
      resync: () => real.resync(),
    });
    const log = createLogger("silent");
    const pipeline = new CommitPipeline({ store, log, onFatal: (error) => fatal.push(error) });
    const runtime = new EntityRuntime({ store, pipeline, entities: [Cell, Tally, Hop], log, ...(options.maxCachedEntities === undefined ? {} : { maxCachedEntities: options.maxCachedEntities }) });
    const host = new OrchestrationHost({ pipeline, orchestrations: [Sections, Work, Child], activities: [Double], log, ...(options.maxCachedInstances === undefined ? {} : { maxCachedInstances: options.maxCachedInstances }) });
    const isRunning: LockHolderCheck = (holder) => host.isRunning(holder);
    runtime.lockHolderCheck = isRunning;
    node = new FlakyNode(real, runtime, host, fatal);
    runtime.start();
    host.start();
    return node;
  }

  instance(id: string): InstanceRecord | undefined {
    return this.store.readInstance(id) as InstanceRecord | undefined;
  }

  leftovers(): string[] {
    const left: string[] = [];
    for (const partition of this.store.localPartitions) {
      for (const [, message] of this.store.readMailbox(partition)) left.push(`message to ${message.target}`);
      for (const [timer] of this.store.readDueTimers(partition, Number.MAX_SAFE_INTEGER, 10_000)) left.push(`timer of ${timer.instanceId}`);
      for (const [address] of this.store.readWorkItems(partition)) left.push(`work item of ${address.instanceId}`);
    }
    return left;
  }

  private closed = false;

  /** Finishes what is queued and releases it (the store stays open for the checks). */
  async quiesce(): Promise<void> {
    this.closed = true;
    await this.runtime.close();
  }

  async close(): Promise<void> {
    if (!this.closed) await this.runtime.close();
    this.host.stop();
    await this.store.close();
  }
}

function ask(runtime: EntityRuntime, request: Omit<Parameters<EntityRuntime["submit"]>[0], "replyTo" | "requestId">): Promise<Outcome> {
  return new Promise((resolve) => runtime.submit({ ...request, requestId: 0, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }));
}

async function until(condition: () => boolean, boundMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${boundMs} ms: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Plan {
  readonly sections: Section[][];
  readonly works: number[][];
  readonly tallies: number;
  readonly relays: number;
  /** Which of the first commits fail (true: refused). */
  readonly failures: boolean[];
  /** Client signals to tallies scheduled a few ms ahead (durable timers of kind "signal"). */
  readonly scheduled: number;
  readonly node: NodeOptions;
}

const sectionArb = fc.record({
  cells: fc.uniqueArray(fc.integer({ min: 0, max: CELLS - 1 }), { minLength: 1, maxLength: 3 }),
  pauseMs: fc.constantFrom(0, 0, 3),
  end: fc.constantFrom<SectionEnd>("release", "release", "release", "return", "throw"),
});
const planArb: fc.Arbitrary<Plan> = fc.record({
  sections: fc.array(fc.array(sectionArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
  works: fc.array(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }), { maxLength: 3 }),
  tallies: fc.integer({ min: 0, max: 30 }),
  relays: fc.integer({ min: 0, max: 5 }),
  failures: fc.array(fc.boolean(), { minLength: 10, maxLength: 300 }),
  scheduled: fc.integer({ min: 0, max: 10 }),
  node: fc.constantFrom<NodeOptions>({}, {}, { maxCachedEntities: 1, maxCachedInstances: 1 }, { maxCachedEntities: 2, maxCachedInstances: 2 }),
});

function expectedCellValues(plan: Plan): number[] {
  const values = new Array<number>(CELLS).fill(0);
  for (const sections of plan.sections) {
    for (const section of sections) {
      for (const cell of section.cells) values[cell]!++;
      if (section.end !== "release") break;
    }
  }
  return values;
}

function expectedSectionsEnd(sections: Section[]): { status: string; output?: unknown } {
  for (let s = 0; s < sections.length; s++) {
    if (sections[s]!.end === "return") return { status: "Completed", output: s };
    if (sections[s]!.end === "throw") return { status: "Failed" };
  }
  return { status: "Completed", output: sections.length };
}

const stats = { runs: 0, failedCommits: 0 };

async function runPlan(plan: Plan): Promise<void> {
  stats.runs++;
  const dir = makeTempDir();
  const node = await FlakyNode.open(dir, (commit) => plan.failures[commit - 1] === true, plan.node);
  /** Every change published, per entity, in order. */
  const published = new Map<string, EntityChange[]>();
  node.runtime.onChange((changes) => {
    for (const change of changes) {
      const list = published.get(change.entityId) ?? [];
      list.push(change);
      published.set(change.entityId, list);
    }
  });
  try {
    // Client signals to tallies: each retried under a new number until acknowledged; what was acknowledged is counted.
    let seq = 0;
    const acked = new Map<string, string[]>();
    const refusedTags: string[] = [];
    const tallySignals = Array.from({ length: plan.tallies }, async (_, i) => {
      const entityId = `Tally/client${i % 3}`;
      for (let attempt = 0; ; attempt++) {
        const tag = `c${i}.${attempt}`;
        const outcome = await ask(node.runtime, { kind: "signal", entityId, op: "add", input: tag, sender: { clientId: "client", seq: ++seq } });
        if (outcome.kind === "ack") {
          acked.set(entityId, [...(acked.get(entityId) ?? []), tag]);
          return;
        }
        expect(outcome, JSON.stringify(outcome)).toMatchObject({ kind: "error", code: "store_unavailable" });
        refusedTags.push(tag);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    });
    // Scheduled client signals (due a few ms later): each acknowledged one is applied once, when due.
    const scheduled = Array.from({ length: plan.scheduled }, async (_, i) => {
      const entityId = `Tally/client${i % 3}`;
      for (let attempt = 0; ; attempt++) {
        const tag = `at${i}.${attempt}`;
        const outcome = await ask(node.runtime, { kind: "signal", entityId, op: "add", input: tag, at: Date.now() + 3 + (i % 4), sender: { clientId: "client", seq: ++seq } });
        if (outcome.kind === "ack") {
          acked.set(entityId, [...(acked.get(entityId) ?? []), tag]);
          return;
        }
        expect(outcome, JSON.stringify(outcome)).toMatchObject({ kind: "error", code: "store_unavailable" });
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    });
    // Relay chains Hop/a -> Hop/b -> Hop/c, started by clients (retried until acknowledged).
    const relayTags: string[] = [];
    const relays = Array.from({ length: plan.relays }, async (_, i) => {
      for (let attempt = 0; ; attempt++) {
        const tag = `r${i}.${attempt}`;
        const outcome = await ask(node.runtime, { kind: "signal", entityId: "Hop/a", op: "relay", input: { tag, path: ["Hop/b", "Hop/c"] } });
        if (outcome.kind === "ack") return void relayTags.push(tag);
        expect(outcome).toMatchObject({ code: "store_unavailable" });
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    });
    // Orchestrations, started until a start is acknowledged.
    const starts: Array<Promise<void>> = [];
    const startUntilAcked = (instanceId: string, name: string, input: unknown) =>
      starts.push(
        (async () => {
          for (;;) {
            const outcome = await new Promise<Outcome>((resolve) => node.host.submit({ kind: "start", instanceId, name, input, depth: 0, requestId: 0, replyTo: { deliver: (_id, o) => resolve(o) } }));
            if (outcome.kind !== "error") return;
            expect(outcome).toMatchObject({ code: "store_unavailable" });
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        })(),
      );
    plan.sections.forEach((sections, i) => startUntilAcked(`s${i}`, "Sections", sections));
    plan.works.forEach((steps, i) => startUntilAcked(`w${i}`, "Work", { steps, done: [] }));
    await Promise.all([...tallySignals, ...scheduled, ...relays, ...starts]);

    const ids = [...plan.sections.map((_, i) => `s${i}`), ...plan.works.map((_, i) => `w${i}`)];
    const describe = () => `${ids.map((id) => `${id}: ${node.instance(id)?.status ?? "none"}`).join(", ")}; left: ${node.leftovers().join(", ")}; failed commits ${node.failed}`;
    await until(() => ids.every((id) => node.instance(id) !== undefined && !isActive(node.instance(id)!.status)) && node.leftovers().length === 0, 30_000, describe);
    stats.failedCommits += node.failed;
    await node.quiesce(); // what is on disk is also released (answered, published)
    const context = `${describe()}\nplan ${JSON.stringify(plan)}`;

    expect(node.fatal, context).toEqual([]);
    plan.sections.forEach((sections, i) => {
      const record = node.instance(`s${i}`)!;
      const expected = expectedSectionsEnd(sections);
      expect(record.status, `s${i} ${JSON.stringify(record.failure)}\n${context}`).toBe(expected.status);
      if (expected.status === "Completed") expect(record.output, context).toEqual(expected.output);
      else expect(record.failure?.message, context).toMatch(/^planned failure inside/);
      expect(record.locks, context).toBeUndefined();
    });
    plan.works.forEach((steps, i) => {
      const record = node.instance(`w${i}`)!;
      expect(record.status, `w${i} ${JSON.stringify(record.failure)}\n${context}`).toBe("Completed");
      expect(record.output, context).toEqual(workOutput(steps));
      const tally = node.store.readEntity(`Tally/w${i}`)?.state as { seen: string[] } | undefined;
      expect(tally?.seen ?? [], `signals from w${i}\n${context}`).toEqual(steps.map((n) => `w${i}:${n}`));
    });
    const cells = Array.from({ length: CELLS }, (_, i) => node.store.readEntity(cellId(i)));
    expect(cells.flatMap((record) => (record?.state as CellState | undefined)?.overlaps ?? []), context).toEqual([]);
    expect(cells.map((record) => record?.lock), context).toEqual(new Array(CELLS).fill(undefined));
    expect(cells.map((record) => (record?.state as CellState | undefined)?.value ?? 0), `lost or doubled updates\n${context}`).toEqual(expectedCellValues(plan));
    for (let c = 0; c < 3; c++) {
      const entityId = `Tally/client${c}`;
      const seen = (node.store.readEntity(entityId)?.state as { seen: string[] } | undefined)?.seen ?? [];
      expect([...seen].sort(), `acknowledged signals to ${entityId} applied exactly once, refused ones never\n${context}`).toEqual([...(acked.get(entityId) ?? [])].sort());
    }
    for (const hop of ["Hop/a", "Hop/b", "Hop/c"]) {
      const seen = (node.store.readEntity(hop)?.state as string[] | undefined) ?? [];
      expect([...seen].sort(), `relay hops at ${hop}\n${context}`).toEqual([...relayTags].sort());
    }
    // What listeners saw: versions 1, 2, 3 … with no gap and no repeat, the last one the state on disk.
    for (const [entityId, changes] of published) {
      const record = node.store.readEntity(entityId);
      expect(changes.map((change) => change.version), `versions published for ${entityId}\n${context}`).toEqual(changes.map((_, i) => i + 1));
      expect(changes[changes.length - 1]!.state, `last published state of ${entityId}`).toEqual(record?.state ?? null);
    }
  } finally {
    await node.close();
    removeDir(dir);
  }
}

describe("random commit failures that do not kill the node (real store, real runtime)", () => {
  it(
    "end with every instance as planned, every acknowledged signal applied once, no lock held and nothing left",
    async () => {
      const numRuns = Number(process.env.REVIEW_FAILURE_RUNS ?? 20);
      const seed = process.env.REVIEW_FAILURE_SEED === undefined ? undefined : Number(process.env.REVIEW_FAILURE_SEED);
      await fc.assert(fc.asyncProperty(planArb, async (plan) => runPlan(plan)), { numRuns, ...(seed === undefined ? {} : { seed }), endOnFailure: true });
      expect(stats.failedCommits).toBeGreaterThan(numRuns);
      console.log(`commit failures: ${stats.runs} runs, ${stats.failedCommits} failed commits`);
    },
    600_000,
  );

  it("the checks catch a store that reports a commit failed after it reached the disk (a test of the test)", async () => {
    const plan: Plan = { sections: [[{ cells: [0], pauseMs: 0, end: "release" }]], works: [], tallies: 20, relays: 0, failures: [false, true, false, true, true], scheduled: 0, node: { lie: true } };
    await expect(runPlan(plan)).rejects.toThrow(/applied exactly once|versions published|lost or doubled|not within/);
  }, 60_000);
});
