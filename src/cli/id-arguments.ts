import { ENTITY_NAME_PATTERN, isEntityId, isInstanceId, isKeyText, KEY_TEXT_RULE, MAX_INSTANCE_ID_LENGTH } from "../../protocol/index.js";
import { UsageError, type ParsedArgs } from "./parse-args.js";

const ENTITY_ID_SHAPE = "an entity id is the entity's type name, a slash and a key, like Counter/alice or Stats/page-views";

/** Commands whose first operand is an entity id. */
const ENTITY_COMMANDS = new Set(["signal", "call", "get", "delete"]);
/** Commands whose first operand is an orchestration instance id. */
const INSTANCE_COMMANDS = new Set(["status", "wait", "raise", "terminate", "suspend", "resume", "rewind", "purge", "history"]);

/**
 * Checks the ids on a command line before anything connects, so that a malformed one gets a usage error
 * (exit code 2) that says what an id looks like, rather than the server's protocol error.
 */
export function checkIdArguments(command: string, args: ParsedArgs): void {
  const id = args.positionals[1];
  if (id !== undefined && ENTITY_COMMANDS.has(command)) {
    const problem = entityIdProblem(id);
    if (problem) throw new UsageError(`${quote(id)} is not an entity id: ${problem}; ${ENTITY_ID_SHAPE}`);
  }
  if (id !== undefined && INSTANCE_COMMANDS.has(command)) instanceIdCheck(id);
  const startId = args.options.id;
  if (command === "start" && typeof startId === "string") instanceIdCheck(startId);
}

/** What is wrong with an entity id, or undefined when it is well formed. */
export function entityIdProblem(id: string): string | undefined {
  if (isEntityId(id)) return undefined;
  const slash = id.indexOf("/");
  if (slash < 0) return "it has no key (no slash)";
  const name = id.slice(0, slash);
  const key = id.slice(slash + 1);
  if (name === "") return "it has no type name before the slash";
  if (!ENTITY_NAME_PATTERN.test(name)) {
    return `the type name ${quote(name)} must start with a letter or _ and hold only letters, digits, _, . and - (at most 128 characters)`;
  }
  if (key === "") return "it has no key after the slash";
  if (!isKeyText(key)) return `the key must be ${KEY_TEXT_RULE}`;
  return "the key is too long (at most 512 characters)";
}

function instanceIdCheck(id: string): void {
  if (isInstanceId(id)) return;
  throw new UsageError(`${quote(id)} is not an instance id: an instance id is 1 to ${MAX_INSTANCE_ID_LENGTH} characters of ${KEY_TEXT_RULE}, as printed by durable-entities start`);
}

/** The id as JSON, cut when long, so that control characters and huge ids print as one short line. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
