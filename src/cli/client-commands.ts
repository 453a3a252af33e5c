import { operands, parseJsonArgument, printJson, withClient } from "./client-connection.js";
import { rejectUnknownOptions, type ParsedArgs } from "./parse-args.js";

/** `signal`, `call` and `get`: one request to a running server, printed as JSON. */
export async function clientCommand(command: "signal" | "call" | "get", args: ParsedArgs): Promise<void> {
  rejectUnknownOptions(args, command, ["url"]);
  const usage = command === "get" ? "get Name/key" : `${command} Name/key operation [json-input]`;
  const [entity, op, inputText] = command === "get" ? operands(args, 1, 1, usage) : operands(args, 2, 3, usage);
  const input = inputText === undefined ? undefined : parseJsonArgument(inputText);
  await withClient(args, async (client) => {
    if (command === "signal") {
      await client.signal(entity!, op!, input);
      process.stderr.write(`acknowledged: ${entity} ${op} is durable\n`);
    } else if (command === "call") {
      printJson(await client.call(entity!, op!, input));
    } else {
      printJson(await client.get(entity!));
    }
  });
}
