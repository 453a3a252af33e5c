import { operands, parseJsonArgument, withClient } from "./client-connection.js";
import { rejectUnknownOptions, stringOption, type ParsedArgs } from "./parse-args.js";

export const INSTANCE_CONTROL_COMMANDS = ["start", "raise", "terminate", "suspend", "resume", "rewind", "purge"] as const;
export type InstanceControlCommand = (typeof INSTANCE_CONTROL_COMMANDS)[number];

/**
 * Commands that change an orchestration instance: `start` prints the new instance's id; the others
 * say on stderr what became durable.
 */
export async function instanceControlCommand(command: InstanceControlCommand, args: ParsedArgs): Promise<void> {
  rejectUnknownOptions(args, command, command === "start" ? ["id", "url"] : ["url"]);
  switch (command) {
    case "start": {
      const [name, inputText] = operands(args, 1, 2, "start NAME [json-input] [--id ID]");
      const input = inputText === undefined ? undefined : parseJsonArgument(inputText);
      const instanceId = stringOption(args, "id");
      const id = await withClient(args, (client) => client.start(name!, input, instanceId === undefined ? {} : { instanceId }));
      process.stdout.write(`${id}\n`);
      return;
    }
    case "raise": {
      const [instanceId, event, dataText] = operands(args, 2, 3, "raise ID EVENT [json-data]");
      const data = dataText === undefined ? undefined : parseJsonArgument(dataText, "event data");
      await withClient(args, (client) => client.raiseEvent(instanceId!, event!, data));
      process.stderr.write(`raised: ${event} for ${instanceId} is durable\n`);
      return;
    }
    case "purge": {
      const [instanceId] = operands(args, 1, 1, "purge ID");
      const { instancesDeleted } = await withClient(args, (client) => client.purge(instanceId!));
      process.stderr.write(instancesDeleted > 0 ? `purged: ${instanceId} and its history are deleted\n` : `nothing to purge: no instance ${instanceId}\n`);
      return;
    }
    default: {
      const [instanceId, reason] = operands(args, 1, 2, `${command} ID [reason]`);
      await withClient(args, (client) => client[command](instanceId!, reason));
      process.stderr.write(`${PAST[command]}: ${instanceId}\n`);
    }
  }
}

const PAST = { terminate: "terminated", suspend: "suspended", resume: "resumed", rewind: "rewound" } as const;
