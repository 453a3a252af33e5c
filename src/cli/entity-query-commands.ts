import type { CleanEntitiesResult, EntityPage, EntityQuery, ListedEntity } from "../../clients/index.js";
import { ENTITY_NAME_PATTERN } from "../../protocol/index.js";
import { operands, printJson, withClient } from "./client-connection.js";
import { shortJson } from "./instance-format.js";
import { integerOption, rejectUnknownOptions, stringOption, UsageError, type ParsedArgs } from "./parse-args.js";
import { parseTimeArgument } from "./time-arguments.js";

export const ENTITY_QUERY_COMMANDS = ["entities", "delete", "clean"] as const;
export type EntityQueryCommand = (typeof ENTITY_QUERY_COMMANDS)[number];

const ENTITIES_USAGE = "entities Type [--prefix P] [--state] [--deleted] [--modified-from TIME] [--modified-to TIME] [--page-size N] [--all] [--count] [--json]";

/** `entities`, `delete` and `clean`: list, delete and clean entities on a running server. */
export async function entityQueryCommand(command: EntityQueryCommand, args: ParsedArgs): Promise<void> {
  switch (command) {
    case "entities":
      return entitiesCommand(args);
    case "delete": {
      rejectUnknownOptions(args, "delete", ["url"]);
      const [entity] = operands(args, 1, 1, "delete Name/key");
      const { deleted } = await withClient(args, (client) => client.deleteEntity(entity!));
      process.stderr.write(deleted ? `deleted: ${entity} (its empty record goes with durable-entities clean)\n` : `${entity} has no state: nothing deleted\n`);
      return;
    }
    case "clean": {
      rejectUnknownOptions(args, "clean", ["json", "url"]);
      const [entityType] = operands(args, 0, 1, "clean [Type] [--json]");
      if (entityType !== undefined) checkTypeName("clean", entityType);
      const report = await withClient(args, (client) => client.cleanEntities(entityType === undefined ? {} : { entityType }));
      if (args.options.json) return printJson(report);
      const lines = formatCleanReport(report);
      if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
      process.stderr.write(`removed ${plural(report.removedEmpty, "empty entity", "empty entities")}, freed ${plural(report.locksFreed, "lock", "locks")} whose orchestration no longer runs\n`);
      return;
    }
  }
}

/** `entities Type …`: a page of the type's entities (every page with --all) as a table, a summary on stderr. */
async function entitiesCommand(args: ParsedArgs): Promise<void> {
  rejectUnknownOptions(args, "entities", ["prefix", "state", "deleted", "modified-from", "modified-to", "page-size", "continuation", "all", "count", "json", "url"]);
  const [type] = operands(args, 1, 1, ENTITIES_USAGE);
  checkTypeName("entities", type!);
  const from = stringOption(args, "modified-from");
  const to = stringOption(args, "modified-to");
  const pageSize = integerOption(args, "page-size", 1, 1000);
  const prefix = stringOption(args, "prefix");
  const query: EntityQuery = {
    type: type!,
    ...(prefix === undefined ? {} : { prefix }),
    ...(args.options.state === true ? { includeState: true } : {}),
    ...(args.options.deleted === true ? { includeDeleted: true } : {}),
    ...(from === undefined ? {} : { modifiedFrom: parseTimeArgument("modified-from", from) }),
    ...(to === undefined ? {} : { modifiedTo: parseTimeArgument("modified-to", to) }),
    ...(pageSize === undefined ? {} : { pageSize }),
  };
  const all = args.options.all === true;
  const { entities, continuation, count } = await withClient(args, async (client) => {
    const found: ListedEntity[] = [];
    let next = stringOption(args, "continuation");
    let counted: number | undefined;
    do {
      // The count (a read of the whole type) is asked for once, with the first page.
      const page: EntityPage = await client.listEntities({ ...query, ...(next === undefined ? {} : { continuation: next }), ...(args.options.count === true && counted === undefined ? { count: true } : {}) });
      found.push(...page.entities);
      counted ??= page.count;
      next = page.continuation;
    } while (all && next !== undefined);
    return { entities: found, continuation: next, count: counted };
  });
  if (args.options.json) return printJson({ entities, ...(continuation === undefined ? {} : { continuation }), ...(count === undefined ? {} : { count }) });
  if (entities.length > 0) process.stdout.write(`${formatEntityTable(entities, args.options.state === true)}\n`);
  const of = count === undefined ? "" : ` (${count} match in all)`;
  process.stderr.write(`${plural(entities.length, "entity", "entities")} of ${type}${of}${continuation === undefined ? "" : `; more with --all, or --continuation ${continuation}`}\n`);
}

/** Entities as a table: id, version, last modified, the lock's holder, and the state when listed. */
export function formatEntityTable(entities: readonly ListedEntity[], withState: boolean): string {
  const header = ["ENTITY", "VERSION", "LAST MODIFIED", "LOCKED BY", ...(withState ? ["STATE"] : [])];
  const rows = entities.map((entity) => [
    entity.id,
    String(entity.version),
    entity.lastModified ?? "-",
    entity.lockedBy ?? "-",
    ...(withState ? [entity.state === undefined ? "(none)" : shortJson(entity.state, 100)] : []),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ")).join("\n");
}

/** What a clean did, one line per entity (the server lists at most 100 of each kind). */
export function formatCleanReport(report: CleanEntitiesResult): string[] {
  const lines = [...report.removed.map((id) => `removed   ${id}`), ...report.unlocked.map((id) => `unlocked  ${id}`)];
  const unlisted = report.removedEmpty - report.removed.length + (report.locksFreed - report.unlocked.length);
  if (unlisted > 0) lines.push(`… and ${unlisted} more`);
  return lines;
}

function checkTypeName(command: string, type: string): void {
  if (ENTITY_NAME_PATTERN.test(type)) return;
  const slash = type.indexOf("/");
  const keyed = command === "entities" ? ` --prefix ${type.slice(slash + 1)}` : "";
  const hint = slash > 0 ? `; ${command} takes the type alone: durable-entities ${command} ${type.slice(0, slash)}${keyed}` : "";
  throw new UsageError(`${command} takes an entity type name like Counter (a letter or _, then letters, digits, _ . -), got ${JSON.stringify(type.slice(0, 80))}${hint}`);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
