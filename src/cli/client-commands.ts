import { connect } from "../../clients/index.js";
import { rejectUnknownOptions, stringOption, UsageError, type ParsedArgs } from "./parse-args.js";

const DEFAULT_URL = "http://127.0.0.1:7071";

/** `signal`, `call` and `get`: one request to a running server, printed as JSON. */
export async function clientCommand(command: "signal" | "call" | "get", args: ParsedArgs): Promise<void> {
  rejectUnknownOptions(args, command, ["url"]);
  const [, entity, op, inputText, ...extra] = args.positionals;
  const usage = command === "get" ? "get Name/key" : `${command} Name/key operation [json-input]`;
  if (entity === undefined || (command !== "get" && op === undefined) || extra.length > 0 || (command === "get" && op !== undefined)) {
    throw new UsageError(`usage: durable-entities ${usage} [--url ${DEFAULT_URL}]`);
  }
  const input = inputText === undefined ? undefined : parseJsonInput(inputText);
  const url = stringOption(args, "url") ?? process.env.DURABLE_ENTITIES_URL ?? DEFAULT_URL;
  const client = await connect(url, { connectTimeoutMs: 2000, disconnectTimeoutMs: 5000 });
  try {
    if (command === "signal") {
      await client.signal(entity, op!, input);
      process.stderr.write(`acknowledged: ${entity} ${op} is durable\n`);
    } else if (command === "call") {
      printJson(await client.call(entity, op!, input));
    } else {
      printJson(await client.get(entity));
    }
  } finally {
    await client.close();
  }
}

function parseJsonInput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`input must be JSON (a number, true, null, "quoted text", [..] or {..}); got ${text}`);
  }
}

function printJson(value: unknown): void {
  process.stdout.write(`${value === undefined ? "null" : JSON.stringify(value, null, typeof value === "object" && value !== null ? 2 : undefined)}\n`);
}
