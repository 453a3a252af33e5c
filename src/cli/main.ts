#!/usr/bin/env node
import { isEntityError } from "../../protocol/index.js";
import { errorMessage } from "../log.js";
import { clientCommand } from "./client-commands.js";
import { parseArgs, UsageError } from "./parse-args.js";
import { serveCommand } from "./serve-command.js";

const HELP = `durable-entities: durable single-writer entities over WebSockets

usage:
  durable-entities serve [--app FILE] [--data DIR] [--port N] [--host H] [--transport uws|ws]
                         [--max-message-bytes N] [--partitions N] [--max-cached-entities N]
                         [--max-buffered-bytes-total N] [--max-concurrent-activities N]
                         [--max-history-events N]
  durable-entities signal Name/key operation [json-input] [--url URL]   returns once durable
  durable-entities call   Name/key operation [json-input] [--url URL]   prints the result
  durable-entities get    Name/key [--url URL]                          prints the stored state

defaults: --port 7071, --host 127.0.0.1, --data ./data, --url http://127.0.0.1:7071
without --app, serve hosts the demo app (Counter, CounterFn, Stats) and a demo page at /demo`;

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, new Set(["help"]));
  const command = args.positionals[0];
  if (command === undefined || command === "help" || args.options.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  switch (command) {
    case "serve":
      return serveCommand(args);
    case "signal":
    case "call":
    case "get":
      return clientCommand(command, args);
    default:
      throw new UsageError(`unknown command "${command}"; try: serve, signal, call, get, help`);
  }
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
