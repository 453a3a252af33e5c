import { describe, expect, it } from "vitest";
import { MAX_FRAMES_PER_MESSAGE, decodeClientMessage, encodeMessage, type ClientFrame } from "../../../protocol/index.js";

const signal = { type: "signal", id: 1, entity: "Counter/alice", op: "add", input: 5 } as const;
const call = { type: "call", id: 2, entity: "Counter/alice", op: "get" } as const;

/** Decodes one frame given as a value; returns the single error it produced. */
function errorOf(frame: unknown) {
  const { frames, errors } = decodeClientMessage(JSON.stringify(frame));
  expect(frames).toEqual([]);
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

describe("decodeClientMessage", () => {
  it("decodes a single frame of every type", () => {
    const all: ClientFrame[] = [
      { type: "hello", version: 1, clientId: "c-1" },
      signal,
      call,
      { type: "get", id: 3, entity: "Counter/alice" },
      { type: "subscribe", id: 4, entity: "Counter/alice", fromVersion: 7 },
      { type: "unsubscribe", id: 5, entity: "Counter/alice" },
    ];
    for (const frame of all) expect(decodeClientMessage(JSON.stringify(frame))).toEqual({ frames: [frame], errors: [] });
  });

  it("decodes an array of frames in order", () => {
    const decoded = decodeClientMessage(JSON.stringify([signal, call, { ...signal, id: 9 }]));
    expect(decoded).toEqual({ frames: [signal, call, { ...signal, id: 9 }], errors: [] });
  });

  it("takes an empty batch as asking nothing (no frames, no error)", () => {
    expect(decodeClientMessage("[]")).toEqual({ frames: [], errors: [] });
  });

  it("keeps the good frames of a batch and answers all the bad ones with one error listing their ids", () => {
    const decoded = decodeClientMessage(JSON.stringify([signal, { type: "call", id: 12, entity: "nope", op: "x" }, call, 7, { type: "get", id: 13 }]));
    expect(decoded.frames).toEqual([signal, call]);
    expect(decoded.errors).toHaveLength(1);
    expect(decoded.errors[0]).toMatchObject({ type: "error", code: "bad_request", ids: [12, 13] });
    expect(decoded.errors[0]!.message).toMatch(/^3 frames of this message are invalid; the first, frame 2: invalid "call" frame: entity: /);
    expect("id" in decoded.errors[0]!).toBe(false);
  });

  it("answers one bad frame of a batch with its id and its position", () => {
    const decoded = decodeClientMessage(JSON.stringify([signal, { type: "call", id: 12, entity: "nope", op: "x" }]));
    expect(decoded.errors).toEqual([{ type: "error", id: 12, code: "bad_request", message: expect.stringMatching(/^frame 2: invalid "call" frame: entity: /) }]);
  });

  it("answers a message of thousands of invalid frames with one small error", () => {
    const text = JSON.stringify(Array.from({ length: MAX_FRAMES_PER_MESSAGE }, () => ({})));
    const { frames, errors } = decodeClientMessage(text);
    expect(frames).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors).length).toBeLessThan(text.length / 10);
    expect(errors[0]!.message).toMatch(/^10000 frames of this message are invalid; the first, frame 1: /);
  });

  it("bounds the length of an error message", () => {
    const error = errorOf({ type: "x".repeat(100_000), id: 1 });
    expect(error.message.length).toBeLessThanOrEqual(400);
  });

  it("answers text that is not JSON with one bad_request and no id", () => {
    for (const text of ["", "{", "{'type':'get'}", "[1,", "undefined"]) {
      const { frames, errors } = decodeClientMessage(text);
      expect(frames).toEqual([]);
      expect(errors).toEqual([{ type: "error", code: "bad_request", message: "message is not valid JSON" }]);
    }
  });

  it("answers items that are not objects with bad_request", () => {
    for (const item of [5, "signal", null, true]) {
      const error = errorOf(item);
      expect(error).toEqual({ type: "error", code: "bad_request", message: 'a frame must be a JSON object with a "type"' });
    }
    const { frames, errors } = decodeClientMessage(JSON.stringify([1, null, [signal], "x"]));
    expect(frames).toEqual([]);
    expect(errors).toEqual([{ type: "error", code: "bad_request", message: '4 frames of this message are invalid; the first, frame 1: a frame must be a JSON object with a "type"' }]);
  });

  it("answers an unknown or missing type with bad_request echoing the id", () => {
    const unknown = errorOf({ type: "delete", id: 4, entity: "Counter/a" });
    expect(unknown).toMatchObject({ type: "error", id: 4, code: "bad_request" });
    expect(unknown.message).toMatch(/^invalid "delete" frame: type: /);
    const missing = errorOf({ id: 6, entity: "Counter/a" });
    expect(missing).toMatchObject({ type: "error", id: 6, code: "bad_request" });
    expect(missing.message).toMatch(/^invalid frame: /);
  });

  it("answers wrong field types with bad_request naming the field", () => {
    const cases: Array<[unknown, number | undefined, string]> = [
      [{ ...signal, op: 5 }, 1, "op"],
      [{ ...signal, op: "" }, 1, "op"],
      [{ ...signal, entity: 42 }, 1, "entity"],
      [{ ...call, id: 2, input: undefined, op: ["get"] }, 2, "op"],
      [{ type: "subscribe", id: 8, entity: "Counter/a", fromVersion: -1 }, 8, "fromVersion"],
      [{ type: "subscribe", id: 8, entity: "Counter/a", fromVersion: 1.5 }, 8, "fromVersion"],
      [{ type: "hello", version: "1" }, undefined, "version"],
      [{ type: "hello", version: 1, clientId: "" }, undefined, "clientId"],
      [{ type: "hello", version: 1, clientId: "app-\ud800" }, undefined, "clientId"],
      [{ type: "hello", version: 1, clientId: "app\u0000" }, undefined, "clientId"],
    ];
    for (const [frame, id, field] of cases) {
      const error = errorOf(frame);
      expect(error.code).toBe("bad_request");
      expect(error.id).toBe(id);
      expect(error.message).toContain(`${field}: `);
    }
  });

  it("echoes the id only when it is a safe non-negative integer", () => {
    const bad = { type: "get", entity: "no-slash" };
    expect(errorOf({ ...bad, id: 0 }).id).toBe(0);
    expect(errorOf({ ...bad, id: Number.MAX_SAFE_INTEGER }).id).toBe(Number.MAX_SAFE_INTEGER);
    for (const id of [-1, 1.5, "3", null, Number.MAX_SAFE_INTEGER + 1, 1e300]) {
      const error = errorOf({ ...bad, id });
      expect(error.code).toBe("bad_request");
      expect("id" in error).toBe(false);
    }
  });

  it("rejects malformed entity ids with bad_request", () => {
    const bad = ["Counter", "Counter/", "/alice", "", "1Counter/a", "Coun ter/a", "Coün/a", `Counter/${"k".repeat(513)}`, `${"N".repeat(129)}/a`];
    // Keys that are not well-formed Unicode or hold control characters (they would share storage keys).
    bad.push("Counter/a\ud800", "Counter/\udc00", `Counter/${"k".repeat(70)}\ud83d`, "Counter/a\u0000b", "Counter/\u0004", "Counter/a\u001f", "Counter/\u007f", "Counter/\u0085");
    for (const entity of bad) {
      const error = errorOf({ type: "get", id: 11, entity });
      expect(error).toMatchObject({ type: "error", id: 11, code: "bad_request" });
      expect(error.message).toContain("entity: entity id must look like Name/key");
    }
    const good = ["Counter/a", "_x/1", "a.b-c_D9/ü key", `Counter/${"k".repeat(512)}`, `${"N".repeat(128)}/a`, "Files/a/b/c", "Emoji/\ud83d\ude00", "Nbsp/\u00a0", `Astral/${"\ud83d\ude00".repeat(256)}`];
    for (const entity of good) expect(decodeClientMessage(JSON.stringify({ type: "get", id: 1, entity })).errors).toEqual([]);
  });

  it("rejects a batch of more than MAX_FRAMES_PER_MESSAGE frames as a whole", () => {
    const frames = Array.from({ length: MAX_FRAMES_PER_MESSAGE + 1 }, (_, i) => ({ ...signal, id: i }));
    const decoded = decodeClientMessage(JSON.stringify(frames));
    expect(decoded.frames).toEqual([]);
    expect(decoded.errors).toEqual([
      {
        type: "error",
        code: "bad_request",
        message: `a message may carry at most ${MAX_FRAMES_PER_MESSAGE} frames, got ${MAX_FRAMES_PER_MESSAGE + 1}`,
      },
    ]);
  });

  it("accepts a batch of exactly MAX_FRAMES_PER_MESSAGE frames", () => {
    const frames = Array.from({ length: MAX_FRAMES_PER_MESSAGE }, (_, i) => ({ ...signal, id: i }));
    const decoded = decodeClientMessage(JSON.stringify(frames));
    expect(decoded.errors).toEqual([]);
    expect(decoded.frames).toHaveLength(MAX_FRAMES_PER_MESSAGE);
    expect(decoded.frames.map((f) => (f.type === "signal" ? f.id : -1))).toEqual(frames.map((f) => f.id));
  });
});

describe("encodeMessage", () => {
  it("encodes one frame as a JSON object", () => {
    const text = encodeMessage([signal]);
    expect(JSON.parse(text)).toEqual(signal);
    expect(text.startsWith("{")).toBe(true);
  });

  it("encodes several frames as a JSON array, in order", () => {
    const text = encodeMessage([signal, call]);
    expect(JSON.parse(text)).toEqual([signal, call]);
  });

  it("round-trips through decodeClientMessage", () => {
    expect(decodeClientMessage(encodeMessage([signal])).frames).toEqual([signal]);
    expect(decodeClientMessage(encodeMessage([signal, call])).frames).toEqual([signal, call]);
  });
});
