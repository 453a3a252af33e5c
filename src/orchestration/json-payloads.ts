import { cloneJson } from "../runtime/json-value.js";
import type { FailureDetails } from "./history-events.js";
import { isLockingRulesViolationError, isTaskFailedError } from "./task-errors.js";

/**
 * A private copy of a value the orchestrator hands over (an input, a custom status, an output),
 * checked to be JSON. Throws a TypeError that names the call and the offending path:
 * `callActivity("Charge"): the input $.card is a function, which JSON cannot carry`.
 */
export function ownJson(value: unknown, what: string): unknown {
  try {
    return cloneJson(value);
  } catch (error) {
    throw new TypeError(`${what} ${(error as Error).message}`);
  }
}

/**
 * A copy of a value from history (a result, an event's input) for the orchestrator, so that code
 * that changes it cannot change the host's events. A value that is not JSON (the host's doing) is
 * handed over as it is.
 */
export function copyForCode(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  try {
    return cloneJson(value);
  } catch {
    return value;
  }
}

/** How an error that escaped the orchestrator (or failed a task) is recorded. */
export function failureFromError(error: unknown): FailureDetails {
  if (isTaskFailedError(error)) {
    return { errorType: error.name, message: error.message, taskName: error.taskName, inner: error.failure };
  }
  if (isLockingRulesViolationError(error)) return { errorType: error.code, message: error.message };
  if (typeof error === "object" && error !== null && typeof (error as Error).message === "string") {
    const { name, message } = error as Error;
    const details = jsonDetails((error as { details?: unknown }).details);
    return { errorType: typeof name === "string" && name !== "" ? name : "Error", message, ...(details === undefined ? {} : { details }) };
  }
  return { errorType: "Error", message: `the orchestrator threw ${describeThrown(error)}` };
}

function jsonDetails(details: unknown): unknown {
  if (details === undefined) return undefined;
  try {
    return cloneJson(details);
  } catch {
    return undefined;
  }
}

function describeThrown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return value === null ? "null" : value === undefined ? "undefined" : `a ${typeof value}`;
}
