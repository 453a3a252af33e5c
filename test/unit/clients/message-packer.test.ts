import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode, type EntityError } from "../../../protocol/entity-error.js";
import { messageLimitsFor, packFrames, utf8Length } from "../../../clients/message-packer.js";

type Frame = { type: string; id: number; input?: unknown };

function signal(id: number, input?: unknown): Frame {
  return { type: "signal", id, input };
}

function unpack(messages: string[]): Frame[] {
  return messages.flatMap((message) => {
    const parsed = JSON.parse(message) as Frame | Frame[];
    return Array.isArray(parsed) ? parsed : [parsed];
  });
}

function noUnsendable(): never {
  throw new Error("no frame should be unsendable");
}

describe("packFrames", () => {
  it("sends one frame as an object and several as one array", () => {
    const limits = messageLimitsFor(1 << 20);
    expect(packFrames([signal(1)], limits, noUnsendable)).toEqual(['{"type":"signal","id":1}']);
    expect(packFrames([signal(1), signal(2)], limits, noUnsendable)).toEqual(['[{"type":"signal","id":1},{"type":"signal","id":2}]']);
    expect(packFrames([], limits, noUnsendable)).toEqual([]);
  });

  it("caps at 1000 frames and 256 KiB whatever the server allows", () => {
    const frames = Array.from({ length: 2500 }, (_, i) => signal(i + 1));
    const messages = packFrames(frames, messageLimitsFor(64 << 20), noUnsendable);
    expect(messages.map((m) => (JSON.parse(m) as unknown[]).length)).toEqual([1000, 1000, 500]);
    expect(messageLimitsFor(64 << 20).maxBytes).toBe(256 * 1024);
    expect(messageLimitsFor(1000).maxBytes).toBe(1000);
  });

  it("splits by UTF-8 bytes, not characters", () => {
    const frames = Array.from({ length: 10 }, (_, i) => signal(i, "é".repeat(40)));
    const limits = { maxBytes: 300, maxFrames: 1000 };
    const messages = packFrames(frames, limits, noUnsendable);
    for (const message of messages) expect(new TextEncoder().encode(message).length).toBeLessThanOrEqual(300);
    expect(messages.length).toBeGreaterThan(3);
    expect(unpack(messages)).toEqual(frames);
  });

  it("leaves out frames that are too large or not JSON and sends the rest", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const refused: [number, EntityError][] = [];
    const frames = [signal(1), signal(2, "x".repeat(500)), signal(3, cyclic), signal(4)];
    const messages = packFrames(frames, { maxBytes: 200, maxFrames: 10 }, (frame, error) => refused.push([frame.id, error]));
    expect(unpack(messages).map((f) => f.id)).toEqual([1, 4]);
    expect(refused.map(([id, error]) => [id, error.code])).toEqual([
      [2, ErrorCode.payload_too_large],
      [3, ErrorCode.bad_request],
    ]);
  });

  it("keeps every frame, in order, within the limits", () => {
    const frameArb = fc.record({ type: fc.constant("signal"), id: fc.nat(), input: fc.string({ unit: "grapheme", maxLength: 30 }) });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 100 }), fc.integer({ min: 200, max: 4000 }), fc.integer({ min: 1, max: 50 }), (frames, maxBytes, maxFrames) => {
        const messages = packFrames(frames, { maxBytes, maxFrames }, noUnsendable);
        return JSON.stringify(unpack(messages)) === JSON.stringify(frames) && messages.every((message) => {
          const parsed = JSON.parse(message) as unknown;
          return utf8Length(message) <= maxBytes && (!Array.isArray(parsed) || parsed.length <= maxFrames);
        });
      }),
    );
  });
});

describe("utf8Length", () => {
  it("matches TextEncoder", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (text) => utf8Length(text) === new TextEncoder().encode(text).length));
  });
});
