/**
 * The benchmark: `npm run bench [-- --quick] [--transport uws|ws] [--scenario NAME] [--driver client|raw] [--profile DIR]`.
 *
 * Each scenario gets a fresh server process on a fresh temporary data directory, driven by separate
 * load processes over loopback sockets. Prints the machine, a table (figure, target, pass/MISS) and
 * one JSON line per scenario. Exits 1 when a correctness check fails (targets missed only show as MISS).
 * The cluster scenarios (scenarios/cluster-*.ts) start their own NATS servers and nodes, and run only
 * when named with --scenario.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { killAll, onExit, profileWorkersInto } from "./children.js";
import { printProfileSummary, summarizeProfile } from "./cpu-profile-summary.js";
import { jsonLine, label, printTable, targetsMet, type ScenarioResult } from "./report.js";
import { callRoundtrip } from "./scenarios/call-roundtrip.js";
import { clusterFailover, clusterFailoverTrickle } from "./scenarios/cluster-failover.js";
import { isClusterScenario, type ClusterScenario } from "./scenarios/cluster-nodes.js";
import { clusterOneNodeSignals, clusterSignals, clusterThreeNodesOneReplicaSignals } from "./scenarios/cluster-signals.js";
import { fanOutFanIn } from "./scenarios/fan-out-fan-in.js";
import { heldConnections } from "./scenarios/held-connections.js";
import { httpSignals, httpStarts } from "./scenarios/http-load.js";
import { liveState } from "./scenarios/live-state.js";
import { loopbackFloor } from "./scenarios/loopback-floor.js";
import { orchestrationLatency } from "./scenarios/orchestration-latency.js";
import { orchestrationsHelloBurst } from "./scenarios/orchestrations-hello-burst.js";
import type { Driver, Scenario, ScenarioContext } from "./scenarios/scenario.js";
import { signalsScenario } from "./scenarios/signals.js";
import { transfersScenario } from "./scenarios/transfers.js";
import { ServerProcess, type TransportName } from "./server-process.js";

const SCENARIOS: Scenario[] = [
  signalsScenario("signals-1000-counters", Array.from({ length: 1000 }, (_, i) => `Counter/c${i}`)),
  signalsScenario("signals-1-hot-counter", ["Counter/hot"]),
  callRoundtrip,
  liveState,
  loopbackFloor,
  orchestrationsHelloBurst,
  orchestrationLatency,
  fanOutFanIn,
  transfersScenario("transfers-1000-accounts", false),
  transfersScenario("transfers-hot-account", true),
  httpSignals,
  httpStarts,
  heldConnections,
];

/**
 * Not in the default run: each starts NATS (nats-server must be installed) and several nodes, and on a
 * small machine they measure the replicated log's overhead rather than anything the default run does.
 */
const CLUSTER_SCENARIOS: ClusterScenario[] = [clusterSignals, clusterOneNodeSignals, clusterThreeNodesOneReplicaSignals, clusterFailover, clusterFailoverTrickle];
const ALL_SCENARIOS: Array<Scenario | ClusterScenario> = [...SCENARIOS, ...CLUSTER_SCENARIOS];

interface Options {
  quick: boolean;
  transport: TransportName;
  drivers: Driver[];
  window: number;
  scenarios: Array<Scenario | ClusterScenario>;
  profileDir: string | undefined;
  profileLoad: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, transport: "uws", drivers: ["client", "raw"], window: 5_000, scenarios: SCENARIOS, profileDir: undefined, profileLoad: false };
  const selected: Array<Scenario | ClusterScenario> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    switch (flag) {
      case "--quick":
        options.quick = true;
        break;
      case "--transport": {
        const transport = value();
        if (transport !== "ws" && transport !== "uws") usage(`--transport is ws or uws, not ${transport}`);
        options.transport = transport as TransportName;
        break;
      }
      case "--driver": {
        const driver = value();
        if (driver !== "client" && driver !== "raw" && driver !== "both") usage(`--driver is client, raw or both, not ${driver}`);
        options.drivers = driver === "both" ? ["client", "raw"] : [driver as Driver];
        break;
      }
      case "--window": {
        options.window = Number(value());
        if (!Number.isInteger(options.window) || options.window < 1) usage("--window takes a positive integer");
        break;
      }
      case "--scenario":
        for (const name of value().split(",")) {
          const scenario = ALL_SCENARIOS.find((s) => s.name === name);
          if (!scenario) usage(`no scenario "${name}"; there are: ${ALL_SCENARIOS.map((s) => s.name).join(", ")}`);
          selected.push(scenario!);
        }
        break;
      case "--profile":
        options.profileDir = value();
        break;
      case "--profile-load":
        options.profileLoad = true;
        break;
      case "--help":
      case "-h":
        usage();
        break;
      default:
        usage(`unknown option ${arg}`);
    }
  }
  if (selected.length > 0) options.scenarios = selected;
  return options;
}

function usage(problem?: string): never {
  if (problem) console.error(`bench: ${problem}`);
  console.error(
    [
      "usage: npm run bench -- [--quick] [--transport uws|ws] [--scenario NAME[,NAME]] [--driver client|raw|both] [--window N] [--profile DIR [--profile-load]]",
      `  scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}`,
      `  cluster scenarios (only when named; need nats-server): ${CLUSTER_SCENARIOS.map((s) => s.name).join(", ")}`,
      "  --driver       what the signal, live-state and orchestration scenarios' load speaks: the real client, a minimal raw-protocol driver",
      "                 (cheap on the load side, so it shows what the server alone can take), or both (default)",
      "  --window N     unacknowledged signals per connection in the signal scenarios (default 5000)",
      "  --profile DIR  runs the server (each cluster node) with node --cpu-prof into DIR and prints its top self-time functions",
      "  --profile-load with --profile: also profiles the load processes (into DIR/load)",
    ].join("\n"),
  );
  process.exit(problem ? 2 : 0);
}

/** Open files a process may have: Node raises its soft limit to the hard one at startup. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const limit = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(limit) ? limit : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The main-thread .cpuprofile files written into `dir` since `since` (ms), newest first. Names are
 * CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (tsx's module loader
 * runs on a second thread, whose profile is only startup work).
 */
function profilesSince(dir: string, since: number): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile") && f.split(".")[4] === "0")
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= since)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}

function newestProfile(dir: string, since: number): string | undefined {
  return profilesSince(dir, since)[0];
}

/** A cluster scenario: it starts (and stops) its own NATS servers and nodes, and prints its nodes' profiles itself. */
async function runClusterScenario(scenario: ClusterScenario, name: string, driver: Driver, options: Options, dataRoot: string, startedAt: number): Promise<ScenarioResult> {
  const loadAvg1m = Math.round(loadavg()[0]! * 100) / 100;
  let result: ScenarioResult;
  try {
    console.log(`\n[${name}] running… (load average ${loadAvg1m})`);
    result = await scenario.run({ quick: options.quick, driver, window: options.window, transport: options.transport, dataRoot, cpuProfileDir: options.profileDir });
  } catch (error) {
    killAll();
    const failure = `the scenario failed: ${error instanceof Error ? error.message : String(error)}`;
    result = { scenario: scenario.name, variant: scenario.usesDriver ? driver : undefined, figures: [], failures: [failure], json: {}, notes: [] };
  }
  result = { ...result, json: { ...result.json, transport: options.transport, quick: options.quick, loadAvg1m, loadAvg1mAfter: Math.round(loadavg()[0]! * 100) / 100 } };
  for (const note of result.notes) console.log(`[${name}] note: ${note}`);
  for (const failure of result.failures) console.log(`[${name}] CORRECTNESS FAILURE: ${failure}`);
  const verdict = result.figures.some((figure) => figure.target !== undefined) ? (targetsMet(result) ? "all targets met" : "targets missed") : result.failures.length > 0 ? "failed" : "done";
  console.log(`[${label(result)}] ${verdict} (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
  // The nodes' profiles were printed by the scenario as it stopped them; the load processes' are here.
  if (options.profileDir && options.profileLoad) {
    for (const file of profilesSince(join(options.profileDir, "load"), startedAt)) {
      console.log(`[${name}] load process CPU profile: ${file}`);
      printProfileSummary(summarizeProfile(file), 15);
    }
  }
  return result;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cpu = cpus();
  const fileLimit = openFileLimit();
  console.log(
    `machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}/${process.arch}, open-file limit ${fileLimit ?? "unknown"}`,
  );
  console.log(`bench: transport ${options.transport}, ${options.quick ? "quick" : "full"} run, load driven by: ${options.drivers.join(" and ")}`);

  const root = mkdtempSync(join(tmpdir(), "durable-entities-bench-"));
  onExit(() => rmSync(root, { recursive: true, force: true }));
  if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
  if (options.profileDir && options.profileLoad) {
    const loadDir = join(options.profileDir, "load");
    mkdirSync(loadDir, { recursive: true });
    profileWorkersInto(loadDir);
  }

  const results: ScenarioResult[] = [];
  const runs = options.scenarios.flatMap((scenario) => (scenario.usesDriver ? options.drivers : [options.drivers[0]!]).map((driver) => ({ scenario, driver })));
  for (const { scenario, driver } of runs) {
    const startedAt = Date.now();
    const name = scenario.usesDriver ? `${scenario.name} [${driver}]` : scenario.name;
    // A fresh server on a fresh data directory for every run.
    const dataDir = join(root, `${scenario.name}-${driver}`);
    if (isClusterScenario(scenario)) {
      results.push(await runClusterScenario(scenario, name, driver, options, dataDir, startedAt));
      continue;
    }
    const server = await ServerProcess.start({ dataDir, transport: options.transport, app: scenario.app, cpuProfileDir: options.profileDir });
    const context: ScenarioContext = { server, quick: options.quick, driver, window: options.window, openFileLimit: fileLimit };
    let result: ScenarioResult;
    // The machine may be shared: the load average before each run says how quiet it was.
    const loadAvg1m = Math.round(loadavg()[0]! * 100) / 100;
    let stopping = false;
    // If the server dies mid-run, fail the run at once (and end its load processes) instead of waiting out timeouts.
    const serverDied = server.exited.then((reason) => {
      if (stopping) return new Promise<never>(() => {});
      killAll();
      throw new Error(`the server ${reason} during the run`);
    });
    try {
      console.log(`\n[${name}] running… (load average ${loadAvg1m})`);
      result = await Promise.race([scenario.run(context), serverDied]);
    } catch (error) {
      const failure = `the scenario failed: ${error instanceof Error ? error.message : String(error)}`;
      result = { scenario: scenario.name, variant: scenario.usesDriver ? driver : undefined, figures: [], failures: [failure], json: {}, notes: [] };
    } finally {
      stopping = true;
      await server.stop();
    }
    result = { ...result, json: { ...result.json, transport: options.transport, quick: options.quick, loadAvg1m } };
    results.push(result);
    for (const note of result.notes) console.log(`[${name}] note: ${note}`);
    for (const failure of result.failures) console.log(`[${name}] CORRECTNESS FAILURE: ${failure}`);
    const verdict = result.figures.some((figure) => figure.target !== undefined) ? (targetsMet(result) ? "all targets met" : "targets missed") : result.failures.length > 0 ? "failed" : "done";
    console.log(`[${label(result)}] ${verdict} (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
    if (options.profileDir) {
      const profile = newestProfile(options.profileDir, startedAt);
      if (profile) {
        const window = result.profileWindowUs;
        console.log(`[${name}] server CPU profile: ${profile}${window ? `, the measured ${((window[1] - window[0]) / 1e6).toFixed(1)} s only (monotonic µs ${window[0]} ${window[1]})` : ""}`);
        printProfileSummary(summarizeProfile(profile, window));
      } else console.log(`[${name}] no CPU profile was written`);
      if (options.profileLoad) {
        for (const file of profilesSince(join(options.profileDir, "load"), startedAt)) {
          console.log(`[${name}] load process CPU profile: ${file}`);
          printProfileSummary(summarizeProfile(file), 15);
        }
      }
    }
  }

  console.log("");
  printTable(results);
  console.log("");
  for (const result of results) console.log(jsonLine(result));
  if (results.some((r) => r.failures.length > 0)) {
    console.error("\nbench: CORRECTNESS FAILURES (see above)");
    process.exitCode = 1;
  }
}

main()
  .catch((error: unknown) => {
    console.error("bench failed:", error);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    // Nothing should keep the runner alive now; if something does, do not hang on it.
    setTimeout(() => process.exit(), 2_000).unref();
  });
