#!/usr/bin/env node
import { isEntityError } from "../../protocol/index.js";
import { errorMessage } from "../log.js";
import { clientCommand } from "./client-commands.js";
import { ENTITY_QUERY_COMMANDS, entityQueryCommand, type EntityQueryCommand } from "./entity-query-commands.js";
import { failuresCommand } from "./failure-commands.js";
import { INSTANCE_CONTROL_COMMANDS, instanceControlCommand, type InstanceControlCommand } from "./instance-control-commands.js";
import { INSTANCE_QUERY_COMMANDS, instanceQueryCommand, type InstanceQueryCommand } from "./instance-query-commands.js";
import { checkIdArguments } from "./id-arguments.js";
import { packageVersion } from "./package-version.js";
import { parseArgs, UsageError } from "./parse-args.js";
import { serveCommand } from "./serve-command.js";

const HELP = `durable-entities: durable entities and orchestrations over WebSockets

usage:
  durable-entities serve [--app FILE] [--data DIR] [--port N] [--host H] [--static DIR]
                         [--transport uws|ws] [--max-message-bytes N] [--partitions N]
                         [--max-cached-entities N] [--max-buffered-bytes-total N]
                         [--max-concurrent-activities N] [--activity-timeout S] [--max-history-events N]
                         [--max-failures-per-type N] [--hub NAME] [--max-hubs N]
                         [--auth TOKENS-FILE] [--allow-origin ORIGIN]... [--insecure]
                         [--tls-cert FILE --tls-key FILE] [--heartbeat-interval S] [--max-connections N]
                         [--rate-limit N] [--max-state-bytes N] [--log-level LEVEL]
                         [--cluster nats://HOST:PORT[,...] --node NAME [--replicas N] [--lease-ms N] [--cluster-name NAME] [--snapshot-entries N]]
  durable-entities --version | -v                           prints the version
  durable-entities help | --help | -h                       prints this help

entities (an entity id is the type name, a slash and a key: Counter/alice):
  durable-entities signal Name/key operation [json-input]   returns once durable; --at TIME schedules it
                                                            (+30s, +5m, +2h, +1d, epoch ms or an ISO date)
  durable-entities call   Name/key operation [json-input]   prints the result
  durable-entities get    Name/key                          prints the stored state
  durable-entities failures [Type] [--limit N] [--before SEQ] [--json]
                                                            failed signals between entities, newest first
  durable-entities entities Type [--prefix P] [--state] [--deleted] [--modified-from TIME]
                           [--modified-to TIME] [--page-size N] [--all] [--count] [--json]
                                                            lists a type's entities (one page unless --all)
  durable-entities delete Name/key                          deletes the entity's state
  durable-entities clean [Type] [--json]                    removes entities without state, frees locks
                                                            of orchestrations that no longer run

orchestrations:
  durable-entities start NAME [json-input] [--id ID]        prints the instance id once the start is durable
  durable-entities status ID [--json]                       prints the instance's status
  durable-entities wait ID [--timeout SECONDS]              prints the output once it completes;
                                                            exit code 1 if it failed or was terminated
  durable-entities raise ID EVENT [json-data]               raises an external event
  durable-entities terminate|suspend|resume ID [reason]
  durable-entities rewind ID [reason]                       a Failed instance runs again from its failures:
                                                            failed activities run again, failed
                                                            sub-orchestrations are rewound
  durable-entities purge ID                                 deletes a finished instance and its history
  durable-entities instances [--status S,S] [--name N] [--prefix P] [--page-size N] [--all] [--json]
                                                            lists instances (one page unless --all)
  durable-entities history ID [--json]                      prints the history as a timeline

every client command takes --url URL (default http://127.0.0.1:7071, or DURABLE_ENTITIES_URL)
--hub NAME (the task hub to work in; default the server's own, or DURABLE_ENTITIES_HUB)
and --token TOKEN (for a server with --auth; or DURABLE_ENTITIES_TOKEN)
defaults: --port 7071, --host 127.0.0.1, --data ./data
serve logs JSON lines on stderr; --log-level trace|debug|info|warn|error|fatal|silent (default info,
or DURABLE_ENTITIES_LOG); for a person, \`durable-entities serve 2>&1 | npx pino-pretty\`
without --app, serve hosts the demo app (entities Counter, CounterFn, Stats and the demo
orchestrations) and a demo page at /demo; the dashboard is at / (at /dashboard/ with --static
DIR, which serves DIR's files at / paths)`;

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, new Set(["help", "json", "all", "version", "insecure", "state", "deleted", "count"]));
  const command = args.positionals[0];
  if (args.options.version || command === "version") {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  if (command === undefined || command === "help" || args.options.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  checkIdArguments(command, args);
  switch (command) {
    case "serve":
      return serveCommand(args);
    case "signal":
    case "call":
    case "get":
      return clientCommand(command, args);
    case "failures":
      return failuresCommand(args);
  }
  if ((ENTITY_QUERY_COMMANDS as readonly string[]).includes(command)) return entityQueryCommand(command as EntityQueryCommand, args);
  if ((INSTANCE_CONTROL_COMMANDS as readonly string[]).includes(command)) return instanceControlCommand(command as InstanceControlCommand, args);
  if ((INSTANCE_QUERY_COMMANDS as readonly string[]).includes(command)) return instanceQueryCommand(command as InstanceQueryCommand, args);
  throw new UsageError(`unknown command "${command}"; try: serve, signal, call, get, failures, entities, delete, clean, start, status, wait, raise, terminate, suspend, resume, rewind, purge, instances, history, help, --version`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(2);
  }
  const code = isEntityError(error) ? `${error.code}: ` : "";
  process.stderr.write(`error: ${code}${errorMessage(error)}\n`);
  process.exit(1);
});
