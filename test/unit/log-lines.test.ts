import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { prettyFactory } from "pino-pretty";
import { createLogger, isLogLevel, LOG_LEVELS, newLogId, type LogLevel } from "../../src/log.js";

/** A stream that keeps what is written to it, one entry a write. */
function collecting(): Writable & { lines: string[] } {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stream.lines.push(chunk.toString());
      callback();
    },
  }) as Writable & { lines: string[] };
  stream.lines = [];
  return stream;
}

function parsed(stream: { lines: string[] }): Array<Record<string, unknown>> {
  return stream.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("log lines (pino)", () => {
  it("are one JSON object a line: the level's label, an ISO time, msg and the fields", () => {
    const stream = collecting();
    createLogger("info", stream).warn("entity evicted", { id: "Counter/a", bytes: 12 });
    expect(stream.lines).toHaveLength(1);
    expect(stream.lines[0]!.endsWith("\n")).toBe(true);
    expect(stream.lines[0]!.indexOf("\n")).toBe(stream.lines[0]!.length - 1);
    const line = parsed(stream)[0]!;
    expect(line).toEqual({ level: "warn", time: expect.any(String), msg: "entity evicted", id: "Counter/a", bytes: 12 });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it("carry the bindings of the child loggers they came through", () => {
    const stream = collecting();
    const hub = createLogger("info", stream).child({ hub: "default" });
    hub.child({ requestId: "r1" }).error("durable http request failed", { path: "/x" });
    hub.info("listening");
    expect(parsed(stream)).toEqual([
      expect.objectContaining({ level: "error", msg: "durable http request failed", hub: "default", requestId: "r1", path: "/x" }),
      expect.objectContaining({ level: "info", msg: "listening", hub: "default" }),
    ]);
    expect(parsed(stream)[1]).not.toHaveProperty("requestId"); // a child's bindings stay on its own lines
  });

  it("never throw for fields (or bindings) JSON cannot hold, and still say what happened", () => {
    const stream = collecting();
    const log = createLogger("info", stream);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const throwing = {
      get value(): never {
        throw new Error("getter failed");
      },
    };
    expect(() => log.error("cyclic and big", { cyclic, big: 10n })).not.toThrow();
    expect(() => log.warn("a nested getter that throws", { throwing })).not.toThrow();
    // The fields object itself throws as it is read: pino's own serializer cannot catch that one.
    expect(() => log.warn("a getter that throws", throwing)).not.toThrow();
    expect(() => log.child(throwing).info("from a child with odd bindings")).not.toThrow();
    const lines = parsed(stream);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ level: "error", msg: "cyclic and big", cyclic: { self: "[Circular]" }, big: 10 });
    expect(lines[1]).toMatchObject({ level: "warn", msg: "a nested getter that throws", throwing: expect.any(String) });
    expect(lines[2]).toMatchObject({ level: "warn", msg: "a getter that throws", fieldsError: "getter failed" });
    expect(lines[3]).toMatchObject({ level: "info", msg: "from a child with odd bindings", bindingsError: "getter failed" });
  });

  it("below the logger's level are not written; silent writes none", () => {
    const stream = collecting();
    const at = (level: LogLevel) => {
      const log = createLogger(level, stream);
      log.debug("d");
      log.info("i");
      log.warn("w");
      log.error("e");
    };
    at("warn");
    expect(parsed(stream).map((line) => line.level)).toEqual(["warn", "error"]);
    stream.lines.length = 0;
    at("trace");
    expect(parsed(stream).map((line) => line.level)).toEqual(["debug", "info", "warn", "error"]);
    stream.lines.length = 0;
    at("silent");
    at("fatal");
    expect(stream.lines).toEqual([]);
  });

  it("names its levels, and falls back to info for an unknown one (a typo in DURABLE_ENTITIES_LOG must not stop the server)", () => {
    expect(LOG_LEVELS).toEqual(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);
    expect(isLogLevel("warn")).toBe(true);
    expect(isLogLevel("loud")).toBe(false);
    const stream = collecting();
    const log = createLogger("loud" as LogLevel, stream);
    log.debug("hidden");
    log.info("shown");
    expect(parsed(stream).map((line) => line.msg)).toEqual(["shown"]);
  });

  it("are readable by pino-pretty", () => {
    const stream = collecting();
    createLogger("debug", stream).child({ hub: "default" }).warn("operation failed", { entityId: "Counter/a", operation: "add" });
    const pretty = prettyFactory({ colorize: false })(stream.lines[0]!);
    expect(pretty).toContain("WARN");
    expect(pretty).toContain("operation failed");
    expect(pretty).toContain('entityId: "Counter/a"');
    expect(pretty).toContain('hub: "default"');
  });

  it("tie a request's or a connection's lines together with short ids", () => {
    const ids = new Set(Array.from({ length: 100 }, () => newLogId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{8}$/);
  });
});
