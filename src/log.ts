import { randomBytes } from "node:crypto";
import pino from "pino";

/**
 * Structured, lowercase logs on stderr, one JSON object a line: `log.info("entity evicted", { id })`.
 * A line holds `level` (its label), `time` (ISO), `msg`, the bindings of the child loggers it came
 * through (`{ hub }`, `{ connectionId }`, `{ requestId }`) and the fields. `| npx pino-pretty` reads it.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** The process is about to exit: why. The one level `--log-level fatal` still shows. */
  fatal(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line also carries `bindings` (a component's `{ hub }`, a request's `{ requestId }`). */
  child(bindings: Record<string, unknown>): Logger;
}

/** The levels, least severe first; `silent` logs nothing. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

/** The level `DURABLE_ENTITIES_LOG` names; `info` when it names none (a typo there must not stop the server). */
export function levelFromEnvironment(): LogLevel {
  const named = process.env.DURABLE_ENTITIES_LOG;
  return named !== undefined && isLogLevel(named) ? named : "info";
}

/**
 * A logger writing to `stream` (stderr by default). Writing a log line never throws and never leaves
 * an unhandled 'error' event: a stream that fails (EPIPE when the reader of a piped stderr went away,
 * `serve 2>&1 | logger` with the logger restarting) is marked broken, and from then on log lines are
 * dropped. There is nowhere left to write them, and a log line must never take the server down.
 * Lines are written synchronously, as they are logged: the last line before an exit is not lost.
 */
export function createLogger(level: LogLevel = levelFromEnvironment(), stream: NodeJS.WritableStream = process.stderr): Logger {
  watch(stream);
  // Any `{ write }` is a pino destination; this one is the never-throwing, drop-when-broken writer.
  const destination = { write: (line: string) => writeLine(stream, line) };
  const root = pino(
    {
      level: isLogLevel(level) ? level : "info",
      base: undefined, // no pid or hostname: one server a process, and the process manager knows both
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return wrap(root);
}

type LineLevel = "debug" | "info" | "warn" | "error" | "fatal";

/** Our Logger over a pino logger: its calls never throw, whatever the fields hold. */
function wrap(logger: pino.Logger): Logger {
  const at = (level: LineLevel) => (message: string, fields?: Record<string, unknown>) => {
    try {
      if (fields === undefined) logger[level](message);
      else logger[level](fields, message);
    } catch (error) {
      // Fields that even pino's safe serializer cannot read (a throwing getter): the line still says what happened.
      try {
        logger[level]({ fieldsError: errorMessage(error) }, message);
      } catch {
        // Nothing left to say it with.
      }
    }
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
    child(bindings) {
      try {
        return wrap(logger.child(bindings));
      } catch (error) {
        return wrap(logger.child({ bindingsError: errorMessage(error) }));
      }
    },
  };
}

/**
 * A short random id (8 characters) that ties a request's or a connection's log lines together. Made
 * only where a line is logged: most requests and connections never log one.
 */
export function newLogId(): string {
  return randomBytes(6).toString("base64url");
}

/** The message of an unknown thrown value, for logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Writes `text` to `stream` (stdout, say) the way log lines are written: it never throws and never
 * leaves an unhandled 'error' event; once the stream failed (EPIPE: its reader went away, as in
 * `serve | true`), what is written to it is dropped.
 */
export function writeOrDrop(stream: NodeJS.WritableStream, text: string): void {
  watch(stream);
  writeLine(stream, text);
}

/** Streams that failed: nothing more is written to them. */
const broken = new WeakSet<NodeJS.WritableStream>();
/** Streams with our 'error' listener (attached once per stream, however many loggers share it). */
const watched = new WeakSet<NodeJS.WritableStream>();

function watch(stream: NodeJS.WritableStream): void {
  if (watched.has(stream)) return;
  watched.add(stream);
  stream.on("error", () => broken.add(stream));
}

function writeLine(stream: NodeJS.WritableStream, line: string): void {
  // Once the stream is broken (or destroyed or ended), log lines are dropped.
  const state = stream as NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean };
  if (broken.has(stream) || state.destroyed === true || state.writableEnded === true) return;
  try {
    // The callback takes a failed write's error too, so it is never unhandled however the stream reports it.
    stream.write(line, (error?: Error | null) => {
      if (error) broken.add(stream);
    });
  } catch {
    broken.add(stream);
  }
}
