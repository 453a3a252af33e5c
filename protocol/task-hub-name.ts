/**
 * Task hub names, as Durable Functions has them: 3 to 45 characters, letters and digits, starting with
 * a letter. They compare without regard to case (Durable Functions' storage lowercases them); the
 * lowercase form is the hub's canonical name.
 */
const TASK_HUB_NAME = /^[A-Za-z][A-Za-z0-9]{2,44}$/;

/** The hub a server serves when none is named. */
export const DEFAULT_TASK_HUB = "default";

/** What to tell a person whose hub name was refused. */
export const TASK_HUB_NAME_RULE = "3 to 45 letters and digits, starting with a letter";

/** The canonical (lowercase) name, or undefined when `name` is not a task hub name. */
export function canonicalTaskHubName(name: string): string | undefined {
  return TASK_HUB_NAME.test(name) ? name.toLowerCase() : undefined;
}
