/** Structured, lowercase logs on stderr, one JSON object a line: `log.info("entity evicted", { id })`. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/**
 * A logger writing to `stream` (stderr by default). Writing a log line never throws and never leaves
 * an unhandled 'error' event: a stream that fails (EPIPE when the reader of a piped stderr went away,
 * `serve 2>&1 | logger` with the logger restarting) is marked broken, and from then on log lines are
 * dropped. There is nowhere left to write them, and a log line must never take the server down.
 */
export function createLogger(
  level: LogLevel = (process.env.DURABLE_ENTITIES_LOG as LogLevel | undefined) ?? "info",
  stream: NodeJS.WritableStream = process.stderr,
): Logger {
  const threshold = LEVELS[level] ?? LEVELS.info;
  watch(stream);
  const write = (name: Exclude<LogLevel, "silent">) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[name] < threshold) return;
    writeLine(stream, formatLine(name, message, fields));
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
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

function formatLine(level: string, message: string, fields: Record<string, unknown> | undefined): string {
  const time = new Date().toISOString();
  try {
    return `${JSON.stringify({ time, level, msg: message, ...fields })}\n`;
  } catch (error) {
    // Fields that JSON cannot hold (a cycle, a BigInt): the line still says what happened.
    return `${JSON.stringify({ time, level, msg: message, fieldsError: errorMessage(error) })}\n`;
  }
}
