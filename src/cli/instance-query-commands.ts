import { EntityError, ErrorCode, type InstanceQuery, type InstanceStatus, type RuntimeStatus } from "../../clients/index.js";
import { operands, printJson, withClient } from "./client-connection.js";
import { formatHistory } from "./history-timeline.js";
import { formatFailure, formatInstanceTable, formatStatus, shortJson } from "./instance-format.js";
import { integerOption, rejectUnknownOptions, stringOption, UsageError, type ParsedArgs } from "./parse-args.js";

export const INSTANCE_QUERY_COMMANDS = ["status", "wait", "instances", "history"] as const;
export type InstanceQueryCommand = (typeof INSTANCE_QUERY_COMMANDS)[number];

/** Commands that read orchestration instances: `status`, `wait`, `instances` and `history`. */
export async function instanceQueryCommand(command: InstanceQueryCommand, args: ParsedArgs): Promise<void> {
  switch (command) {
    case "status": {
      rejectUnknownOptions(args, command, ["json", "url"]);
      const [instanceId] = operands(args, 1, 1, "status ID [--json]");
      const status = await withClient(args, (client) => client.status(instanceId!));
      if (status === null) throw notFound(instanceId!);
      if (args.options.json) return printJson(status);
      process.stdout.write(`${formatStatus(status)}\n`);
      return;
    }
    case "wait":
      return waitCommand(args);
    case "instances":
      return instancesCommand(args);
    case "history": {
      rejectUnknownOptions(args, command, ["json", "url"]);
      const [instanceId] = operands(args, 1, 1, "history ID [--json]");
      const events = await withClient(args, (client) => client.history(instanceId!));
      if (args.options.json) return printJson(events);
      const started = events[0] === undefined ? "" : ` (times after ${new Date(events[0].timestamp).toISOString()})`;
      process.stdout.write(`history of ${instanceId}: ${events.length} events${started}\n${formatHistory(events).join("\n")}\n`);
      return;
    }
  }
}

/** `wait ID [--timeout S]`: prints the output once Completed; exit code 1 when it Failed or was Terminated. */
async function waitCommand(args: ParsedArgs): Promise<void> {
  rejectUnknownOptions(args, "wait", ["timeout", "url"]);
  const [instanceId] = operands(args, 1, 1, "wait ID [--timeout SECONDS]");
  const timeoutText = stringOption(args, "timeout");
  const seconds = timeoutText === undefined ? undefined : Number(timeoutText);
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds >= 0)) throw new UsageError(`--timeout must be a number of seconds, 0 or more; got "${timeoutText}"`);
  const status = await withClient(args, (client) => client.waitForCompletion(instanceId!, seconds === undefined ? {} : { timeoutMs: Math.round(seconds * 1000) }));
  if (status.runtimeStatus === "Completed") return printJson(status.output);
  const why = status.runtimeStatus === "Failed" ? `failed: ${formatFailure(status.failureDetails)}` : `was terminated${status.output === null ? "" : `: ${shortJson(status.output, 200)}`}`;
  process.stderr.write(`error: ${instanceId} ${why}\n`);
  process.exitCode = 1;
}

/** `instances [--status S,S] [--name N] [--prefix P] [--page-size N] [--continuation TOKEN] [--all] [--json]`. */
async function instancesCommand(args: ParsedArgs): Promise<void> {
  rejectUnknownOptions(args, "instances", ["status", "name", "prefix", "page-size", "continuation", "all", "json", "url"]);
  operands(args, 0, 0, "instances [--status S,S] [--name N] [--prefix P] [--page-size N] [--all] [--json]");
  const statusText = stringOption(args, "status");
  const query: InstanceQuery = {
    ...(statusText === undefined ? {} : { runtimeStatus: parseStatuses(statusText) }),
    ...optional("name", stringOption(args, "name")),
    ...optional("instanceIdPrefix", stringOption(args, "prefix")),
    ...optional("pageSize", integerOption(args, "page-size", 1, 1000)),
  };
  const all = args.options.all === true;
  const { instances, continuation } = await withClient(args, async (client) => {
    const found: InstanceStatus[] = [];
    let next = stringOption(args, "continuation");
    do {
      const page = await client.list({ ...query, ...optional("continuation", next) });
      found.push(...page.instances);
      next = page.continuation;
    } while (all && next !== undefined);
    return { instances: found, continuation: next };
  });
  if (args.options.json) return printJson(continuation === undefined ? { instances } : { instances, continuation });
  if (instances.length > 0) process.stdout.write(`${formatInstanceTable(instances)}\n`);
  process.stderr.write(`${instances.length} instance${instances.length === 1 ? "" : "s"}${continuation === undefined ? "" : `; more with --all, or --continuation ${continuation}`}\n`);
}

const STATUSES: readonly RuntimeStatus[] = ["Pending", "Running", "Completed", "Failed", "Terminated", "Suspended"];

function parseStatuses(text: string): RuntimeStatus[] {
  return text.split(",").map((word) => {
    const status = STATUSES.find((name) => name.toLowerCase() === word.trim().toLowerCase());
    if (status === undefined) throw new UsageError(`--status takes a comma-separated list of ${STATUSES.join(", ")}; got "${word}"`);
    return status;
  });
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function notFound(instanceId: string): EntityError {
  return new EntityError(ErrorCode.not_found, `no orchestration instance "${instanceId}"`);
}
