import { operands, parseJsonArgument, printJson, withClient } from "./client-connection.js";
import { rejectUnknownOptions, stringOption, type ParsedArgs } from "./parse-args.js";
import { parseTimeArgument } from "./time-arguments.js";

/** `signal` (`--at TIME` schedules it), `call` and `get`: one request to a running server, printed as JSON. */
export async function clientCommand(command: "signal" | "call" | "get", args: ParsedArgs): Promise<void> {
  rejectUnknownOptions(args, command, command === "signal" ? ["at", "url"] : ["url"]);
  const usage = command === "get" ? "get Name/key" : command === "signal" ? "signal Name/key operation [json-input] [--at TIME]" : `${command} Name/key operation [json-input]`;
  const [entity, op, inputText] = command === "get" ? operands(args, 1, 1, usage) : operands(args, 2, 3, usage);
  const input = inputText === undefined ? undefined : parseJsonArgument(inputText);
  const atText = command === "signal" ? stringOption(args, "at") : undefined;
  const at = atText === undefined ? undefined : parseTimeArgument("at", atText);
  await withClient(args, async (client) => {
    if (command === "signal") {
      await client.signal(entity!, op!, input, at === undefined ? undefined : { at });
      if (at === undefined) process.stderr.write(`acknowledged: ${entity} ${op} is durable\n`);
      else process.stderr.write(`scheduled: ${entity} ${op} at ${new Date(at).toISOString()} is durable\n`);
    } else if (command === "call") {
      printJson(await client.call(entity!, op!, input));
    } else {
      printJson(await client.get(entity!));
    }
  });
}
