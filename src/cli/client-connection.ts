import { connect, EntityError, ErrorCode, isEntityError, type DurableClient } from "../../clients/index.js";
import { canonicalTaskHubName, TASK_HUB_NAME_RULE } from "../../protocol/index.js";
import { ConnectionDiagnosis } from "./connection-diagnosis.js";
import { stringOption, UsageError, type ParsedArgs } from "./parse-args.js";

export const DEFAULT_URL = "http://127.0.0.1:7071";
const CONNECT_TIMEOUT_MS = 2000;

/**
 * Runs `work` with a client of the server at `--url` (or DURABLE_ENTITIES_URL), closed afterwards. When no
 * connection is made, the `disconnected` error says why (nothing listening, an unknown host, not this server).
 */
export async function withClient<T>(args: ParsedArgs, work: (client: DurableClient) => Promise<T>): Promise<T> {
  const url = stringOption(args, "url") ?? process.env.DURABLE_ENTITIES_URL ?? DEFAULT_URL;
  const hub = stringOption(args, "hub") ?? process.env.DURABLE_ENTITIES_HUB;
  const token = stringOption(args, "token") ?? process.env.DURABLE_ENTITIES_TOKEN;
  if (hub !== undefined && canonicalTaskHubName(hub) === undefined) throw new UsageError(`--hub must be ${TASK_HUB_NAME_RULE}, got "${hub}"`);
  const diagnosis = new ConnectionDiagnosis();
  let connected = false;
  let client: DurableClient;
  try {
    client = await connect(url, {
      ...(hub === undefined ? {} : { hub }),
      ...(token === undefined ? {} : { token }),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      disconnectTimeoutMs: 5000,
      webSocket: diagnosis.openSocket,
      onError: (error) => {
        if (connected) process.stderr.write(`warning: ${error.code}: ${error.message}\n`);
        else diagnosis.report(error);
      },
    });
  } catch (error) {
    if (isEntityError(error) && error.code === ErrorCode.disconnected) throw new EntityError(ErrorCode.disconnected, diagnosis.explain(url, CONNECT_TIMEOUT_MS));
    throw error;
  }
  connected = true;
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/** A JSON argument (an input, event data). */
export function parseJsonArgument(text: string, what = "input"): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} must be JSON (a number, true, null, "quoted text", [..] or {..}); got ${text}`);
  }
}

/** Prints a value as JSON (objects indented), `null` for undefined. */
export function printJson(value: unknown): void {
  process.stdout.write(`${value === undefined ? "null" : JSON.stringify(value, null, typeof value === "object" && value !== null ? 2 : undefined)}\n`);
}

/** The positionals after the command name; a usage error unless there are `min` to `max` of them. */
export function operands(args: ParsedArgs, min: number, max: number, usage: string): string[] {
  const words = args.positionals.slice(1);
  if (words.length < min || words.length > max) throw new UsageError(`usage: durable-entities ${usage} [--url ${DEFAULT_URL}]`);
  return words;
}
