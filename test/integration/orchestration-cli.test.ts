import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, runCliToEnd, startServerProcess } from "./support/server-process.js";

const APP = fileURLToPath(new URL("../fixtures/orchestration-app.ts", import.meta.url));

/** The orchestration commands of the built CLI (`npm run build` first) against a server process. */
describe("the durable-entities orchestration commands", () => {
  const dir = tempDataDir();
  let server: { child: ChildProcess; url: string };
  const cli = (...args: string[]) => runCliToEnd([...args, "--url", server.url]);
  beforeAll(async () => {
    server = await startServerProcess(["--app", APP, "--data", dir.path, "--port", String(await freePort())]);
  });
  afterAll(async () => {
    await killAndWait(server.child, "SIGTERM");
    dir.cleanup();
  });

  it("starts, waits for the output, and shows the status and the history", async () => {
    const start = await cli("start", "Greetings", '["Tokyo","Seattle"]', "--id", "cli-g1");
    expect(start).toMatchObject({ code: 0, stdout: "cli-g1\n" });
    const wait = await cli("wait", "cli-g1", "--timeout", "20");
    expect(wait.code).toBe(0);
    expect(JSON.parse(wait.stdout)).toEqual(["Hello Tokyo!", "Hello Seattle!"]);

    const status = await cli("status", "cli-g1");
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^instance\s+cli-g1\nname\s+Greetings\nstatus\s+Completed\n/);
    expect(status.stdout).toMatch(/^output\s+\["Hello Tokyo!","Hello Seattle!"\]$/m);
    const json = await cli("status", "cli-g1", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ instanceId: "cli-g1", runtimeStatus: "Completed", input: ["Tokyo", "Seattle"] });

    const history = await cli("history", "cli-g1");
    expect(history.code).toBe(0);
    const lines = history.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^history of cli-g1: 12 events \(times after \d{4}-\d\d-\d\dT[\d:.]+Z\)$/);
    expect(lines.slice(1)).toHaveLength(12);
    expect(lines).toContainEqual(expect.stringMatching(/^\s+\+0\.000s {2}ExecutionStarted\s+Greetings input \["Tokyo","Seattle"\]$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\s+\+\d+\.\d{3}s {2}TaskCompleted\s+Greet #1 result "Hello Seattle!"$/));
    expect(lines.at(-2)).toMatch(/ExecutionCompleted\s+Completed output \["Hello Tokyo!","Hello Seattle!"\]$/);
    const events = JSON.parse((await cli("history", "cli-g1", "--json")).stdout) as Array<{ type: string }>;
    expect(events.map((event) => event.type)).toContain("TaskScheduled");

    const anonymous = await cli("start", "Greetings", "[]");
    expect(anonymous.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
  });

  it("raises, suspends, resumes and terminates; wait exits 1 when an instance failed or was terminated, or on its timeout", async () => {
    await cli("start", "Approval", '{"requester":"ann"}', "--id", "cli-a1");
    expect(await cli("suspend", "cli-a1", "hold on")).toMatchObject({ code: 0, stderr: "suspended: cli-a1\n" });
    expect(await cli("raise", "cli-a1", "approve", '{"approved":true}')).toMatchObject({ code: 0, stderr: "raised: approve for cli-a1 is durable\n" });
    expect((await cli("status", "cli-a1")).stdout).toMatch(/^status\s+Suspended$/m);
    expect(await cli("resume", "cli-a1")).toMatchObject({ code: 0, stderr: "resumed: cli-a1\n" });
    const approved = await cli("wait", "cli-a1");
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toEqual({ requester: "ann", approved: true });
    const timeline = (await cli("history", "cli-a1")).stdout;
    expect(timeline).toMatch(/ExecutionSuspended\s+reason "hold on"/);
    expect(timeline).toMatch(/EventRaised\s+approve data \{"approved":true\}/);

    await cli("start", "Sleeper", "3600", "--id", "cli-s1");
    const timedOut = await cli("wait", "cli-s1", "--timeout", "0.2");
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toMatch(/^error: timeout: orchestration instance "cli-s1" did not finish within 200 ms \(it is Running\)$/m);
    expect(await cli("terminate", "cli-s1", "too slow")).toMatchObject({ code: 0, stderr: "terminated: cli-s1\n" });
    expect(await cli("wait", "cli-s1")).toMatchObject({ code: 1, stdout: "", stderr: 'error: cli-s1 was terminated: "too slow"\n' });
    expect((await cli("history", "cli-s1")).stdout).toMatch(/TimerCreated\s+timer #0 fires at \S+ \(\+1h00m00s\)\n.*\n.*ExecutionTerminated\s+reason "too slow"/);

    await cli("start", "Doomed", "--id", "cli-d1");
    const failed = await cli("wait", "cli-d1");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error: cli-d1 failed: .*the reactor went boom/);
    expect((await cli("status", "cli-d1")).stdout).toMatch(/^failure\s+.*the reactor went boom/m);
    expect((await cli("history", "cli-d1")).stdout).toMatch(/TaskFailed\s+Explode #0 failed: Error: the reactor went boom/);
  });

  it("lists instances a page at a time or all of them, and purges", async () => {
    for (const i of [1, 2, 3]) await cli("start", "Sleeper", "3600", "--id", `cli-list-${i}`);
    const table = await cli("instances", "--prefix", "cli-list-", "--status", "running");
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^INSTANCE\s+NAME\s+STATUS\s+CREATED\s+UPDATED$/);
    expect(rows.slice(1).map((row) => row.split(/\s+/).slice(0, 3))).toEqual(expect.arrayContaining([["cli-list-1", "Sleeper", "Running"]]));
    expect(rows).toHaveLength(4);
    expect(table.stderr).toBe("3 instances\n");

    const all = await cli("instances", "--prefix", "cli-", "--page-size", "1", "--all", "--json");
    const listed = JSON.parse(all.stdout) as { instances: Array<{ instanceId: string }>; continuation?: string };
    expect(listed.continuation).toBeUndefined();
    expect(listed.instances.map((s) => s.instanceId).filter((id) => id.startsWith("cli-list-")).sort()).toEqual(["cli-list-1", "cli-list-2", "cli-list-3"]);
    const onePage = await cli("instances", "--page-size", "1", "--json");
    expect(JSON.parse(onePage.stdout)).toMatchObject({ instances: [expect.anything()], continuation: expect.any(String) });
    const byName = await cli("instances", "--name", "Doomed", "--status", "Failed,Completed");
    expect(byName.stdout).toMatch(/cli-d1\s+Doomed\s+Failed/);

    expect(await cli("purge", "cli-list-1")).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: instance_exists: .*terminate it before purging/) });
    await cli("terminate", "cli-list-1");
    expect(await cli("purge", "cli-list-1")).toMatchObject({ code: 0, stderr: "purged: cli-list-1 and its history are deleted\n" });
    expect(await cli("purge", "cli-list-1")).toMatchObject({ code: 0, stderr: "nothing to purge: no instance cli-list-1\n" });
    expect(await cli("status", "cli-list-1")).toMatchObject({ code: 1, stderr: 'error: not_found: no orchestration instance "cli-list-1"\n' });
  });

  it("prints one clear line and exits non-zero on mistakes", async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [["start"], 2, /^error: usage: durable-entities start NAME \[json-input\] \[--id ID\]/],
      [["start", "Greetings", "not json"], 2, /^error: input must be JSON/],
      [["start", "NoSuch"], 1, /^error: unknown_orchestration: no orchestration "NoSuch"/],
      [["start", "Sleeper", "3600", "--id", "cli-dup"], 0, /^$/], // still running when the same id is started again, however slow the machine
      [["start", "Sleeper", "3600", "--id", "cli-dup"], 1, /^error: instance_exists: /],
      [["start", "Greetings", "[]", "--instance", "x"], 2, /^error: unknown option --instance; start takes --id, --url/],
      [["wait", "cli-g1", "--timeout", "soon"], 2, /^error: --timeout must be a number of seconds/],
      [["wait", "nobody"], 1, /^error: not_found: orchestration instance "nobody" does not exist/],
      [["status"], 2, /^error: usage: durable-entities status ID \[--json\]/],
      [["history", "nobody"], 1, /^error: not_found: /],
      [["raise", "cli-g1", "approve"], 1, /^error: instance_finished: /],
      [["raise", "cli-g1", "approve", "{oops"], 2, /^error: event data must be JSON/],
      [["terminate", "nobody"], 1, /^error: not_found: /],
      [["instances", "--status", "Sleepy"], 2, /^error: --status takes a comma-separated list of Pending, Running/],
      [["instances", "--page-size", "0"], 2, /^error: --page-size must be a whole number from 1 to 1000/],
      [["instances", "extra"], 2, /^error: usage: durable-entities instances/],
    ];
    for (const [args, code, pattern] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(" ")).toBe(code);
      expect(result.stderr, args.join(" ")).toMatch(pattern);
    }
  });

  it("documents every orchestration command in its help", async () => {
    const help = await runCliToEnd(["help"]);
    for (const command of ["start NAME", "status ID", "wait ID", "raise ID EVENT", "terminate|suspend|resume ID", "purge ID", "instances [--status", "history ID"]) {
      expect(help.stdout).toContain(`durable-entities ${command}`);
    }
  });
});
