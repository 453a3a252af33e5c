import type { Logger } from "../../../src/log.js";

export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error" | "fatal";
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps its lines, for tests that check what was logged (a child's bindings are in its lines' fields). */
export function captureLog(): Logger & { readonly lines: LogLine[]; at(level: LogLine["level"], message: string): LogLine[] } {
  const lines: LogLine[] = [];
  const logger = (bindings: Record<string, unknown>): Logger => {
    const write = (level: LogLine["level"]) => (message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields: { ...bindings, ...fields } });
    return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error"), fatal: write("fatal"), child: (more) => logger({ ...bindings, ...more }) };
  };
  return {
    lines,
    at: (level, message) => lines.filter((line) => line.level === level && line.message === message),
    ...logger({}),
  };
}
