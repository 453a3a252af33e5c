import type { FailedSignal, FailureQuery } from "../../clients/index.js";
import { ENTITY_NAME_PATTERN } from "../../protocol/index.js";
import { operands, printJson, withClient } from "./client-connection.js";
import { shortJson } from "./instance-format.js";
import { integerOption, rejectUnknownOptions, UsageError, type ParsedArgs } from "./parse-args.js";

const USAGE = "failures [Type] [--limit N] [--before SEQ] [--json]";

/**
 * `failures [Type] [--limit N] [--before SEQ] [--json]`: the failed signals between entities the
 * server keeps, newest first, each with its input, error and sender; a summary on stderr.
 */
export async function failuresCommand(args: ParsedArgs): Promise<void> {
  rejectUnknownOptions(args, "failures", ["limit", "before", "json", "url"]);
  const [entityType] = operands(args, 0, 1, USAGE);
  if (entityType !== undefined && !ENTITY_NAME_PATTERN.test(entityType)) {
    const slash = entityType.indexOf("/");
    const hint = slash > 0 ? `; to see ${entityType}'s, list its type: durable-entities failures ${entityType.slice(0, slash)}` : "";
    throw new UsageError(`failures takes an entity type name like Counter (a letter or _, then letters, digits, _ . -), got ${JSON.stringify(entityType)}${hint}`);
  }
  const limit = integerOption(args, "limit", 1, 1000);
  const before = integerOption(args, "before", 0, Number.MAX_SAFE_INTEGER);
  const query: FailureQuery = {
    ...(entityType === undefined ? {} : { entityType }),
    ...(limit === undefined ? {} : { limit }),
    ...(before === undefined ? {} : { before }),
  };
  const page = await withClient(args, (client) => client.failures(query));
  if (args.options.json) return printJson(page);
  if (page.failures.length > 0) process.stdout.write(`${page.failures.map(formatFailedSignal).join("\n")}\n`);
  const count = `${page.failures.length} failed signal${page.failures.length === 1 ? "" : "s"}${entityType === undefined ? "" : ` of ${entityType}`}`;
  process.stderr.write(`${count}${page.next === undefined ? "" : `; older ones with --before ${page.next}`}\n`);
}

/** One failed signal: when, which entity and operation, from whom; the error; the input. */
export function formatFailedSignal(failure: FailedSignal): string {
  const from = failure.source === undefined ? "" : `  from ${failure.source}`;
  const input = failure.inputBytes !== undefined ? `(${failure.inputBytes} bytes of JSON, not kept)` : shortJson(failure.input ?? null, 200);
  return [`#${failure.seq}  ${failure.time}  ${failure.entityId} ${failure.operation}${from}`, `  ${failure.code}: ${failure.message}`, `  input: ${input}`].join("\n");
}
