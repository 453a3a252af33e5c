import { describe, expect, it } from "vitest";
import { defineOrchestration, ReplayExecutor, Task, type HistoryEvent } from "../../../src/orchestration/index.js";
import { START_MS, TestHost } from "./support/test-host.js";
import { incomingTurns } from "./support/turns.js";

interface Sample {
  readonly now: number;
  readonly date: number;
  readonly dateString: string;
  readonly random: number[];
  readonly withArgs: number;
  readonly isDate: boolean;
}

function sample(): Sample {
  return {
    now: Date.now(),
    date: new Date().getTime(),
    dateString: Date(),
    random: [Math.random(), Math.random()],
    withArgs: new Date(2000, 0, 1).getTime(),
    isDate: new Date() instanceof Date,
  };
}

/** Samples the globals at every step (including steps that follow at once, and in Task.all fan-ins). */
const Sampler = defineOrchestration("Sampler", function* (ctx) {
  const samples: Sample[] = [sample()];
  yield ctx.callActivity("A");
  samples.push(sample());
  yield ctx.waitForExternalEvent("go");
  samples.push(sample());
  yield Task.all([]); // completes at once: the next step runs in the same turn
  samples.push(sample());
  const b = ctx.callActivity("B");
  const c = ctx.callActivity("C");
  yield Task.all([b, c]);
  samples.push(sample());
  ctx.setCustomStatus(samples.length);
  return samples;
});

function runSampler(): { host: TestHost; samples: Sample[] } {
  const host = new TestHost(Sampler, { instanceId: "sampler-1" });
  host.start();
  host.turn([host.completed(0)], 1500);
  host.turn([host.raised("go")], 2500);
  host.turn([host.completed(1), host.completed(2)], 3500);
  const end = host.last.end;
  expect(end?.status).toBe("Completed");
  return { host, samples: (end as { output: Sample[] }).output };
}

describe("Date and Math.random inside an orchestrator", () => {
  it("Date.now(), new Date() and Date() give the turn's time; new Date(args) is the real Date", () => {
    const { samples } = runSampler();
    expect(samples.map((s) => s.now)).toEqual([START_MS, START_MS + 1500, START_MS + 4000, START_MS + 4000, START_MS + 7500]);
    for (const s of samples) {
      expect(s.date).toBe(s.now);
      expect(s.dateString).toBe(new Date(s.now).toString());
      expect(s.withArgs).toBe(new Date(2000, 0, 1).getTime());
      expect(s.isDate).toBe(true);
    }
  });

  it("Math.random() gives numbers in [0, 1), different from step to step", () => {
    const { samples } = runSampler();
    const all = samples.flatMap((s) => s.random);
    for (const n of all) expect(n >= 0 && n < 1).toBe(true);
    expect(new Set(all).size).toBe(all.length);
  });

  it("give the same values on a replay from scratch and on a cached executor", () => {
    const { host, samples } = runSampler();
    expect(runSampler().samples).toEqual(samples);
    const fromScratch = new ReplayExecutor("sampler-1", Sampler).run(host.history, []);
    expect(fromScratch.end).toEqual({ status: "Completed", output: samples });
    const [first, ...rest] = incomingTurns(host.history);
    const cached = new ReplayExecutor("sampler-1", Sampler);
    let result = cached.run([], first!);
    for (const turn of rest) result = cached.advance(turn);
    expect(result.end).toEqual({ status: "Completed", output: samples });
  });

  it("another instance id draws other numbers", () => {
    const firstRandom = (instanceId: string) => {
      let seen = 0;
      const Probe = defineOrchestration("Probe", function* () {
        seen = Math.random();
      });
      new ReplayExecutor(instanceId, Probe).run([], startEvents());
      return seen;
    };
    expect(firstRandom("a")).toBe(firstRandom("a"));
    expect(firstRandom("a")).not.toBe(firstRandom("b"));
  });

  it("the real globals are back after every step, also when the step throws", () => {
    const realDate = Date;
    const realRandom = Math.random;
    let inside: { date: unknown; random: unknown } | undefined;
    const Throws = defineOrchestration("Throws", function* (ctx) {
      inside = { date: Date, random: Math.random };
      yield ctx.callActivity("A");
      throw new Error("fails");
    });
    const host = new TestHost(Throws);
    host.start();
    expect(inside!.date).not.toBe(realDate);
    expect(inside!.random).not.toBe(realRandom);
    expect(Date).toBe(realDate);
    expect(Math.random).toBe(realRandom);
    host.turn([host.completed(0)]);
    expect(host.end?.status).toBe("Failed");
    expect(Date).toBe(realDate);
    expect(Math.random).toBe(realRandom);
  });
});

describe("newGuid", () => {
  const Guids = defineOrchestration("Guids", function* (ctx) {
    const first = [ctx.newGuid(), ctx.newGuid()];
    yield ctx.callActivity("A");
    return [...first, ctx.newGuid()];
  });

  it("gives UUIDs that are the same on every replay and differ from each other", () => {
    const run = (instanceId: string) => {
      const host = new TestHost(Guids, { instanceId });
      host.start();
      return host.turn([host.completed(0)]).end as { output: string[] };
    };
    const a = run("g-1").output;
    expect(run("g-1").output).toEqual(a);
    expect(new Set(a).size).toBe(3);
    for (const guid of a) expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(run("g-2").output).not.toEqual(a);
  });
});

function startEvents(): HistoryEvent[] {
  return [
    { type: "OrchestratorStarted", timestamp: START_MS },
    { type: "ExecutionStarted", timestamp: START_MS, name: "x" },
  ];
}
