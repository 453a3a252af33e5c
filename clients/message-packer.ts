import { EntityError, ErrorCode } from "../protocol/entity-error.js";

/** The most one client message may carry. */
export interface MessageLimits {
  readonly maxBytes: number;
  readonly maxFrames: number;
}

/** The client's own ceiling, whatever the server allows: 256 KiB and 1000 frames per message. */
export const CLIENT_MESSAGE_LIMITS: MessageLimits = { maxBytes: 256 * 1024, maxFrames: 1000 };

/** The limits to use once the server said how large a message it accepts. */
export function messageLimitsFor(serverMaxBytes: number): MessageLimits {
  return { maxBytes: Math.min(serverMaxBytes, CLIENT_MESSAGE_LIMITS.maxBytes), maxFrames: CLIENT_MESSAGE_LIMITS.maxFrames };
}

/**
 * Turns the frames issued in one tick into as few WebSocket messages as the limits allow, in order:
 * one frame is sent as a JSON object, several as a JSON array. A frame that cannot be encoded or
 * is too large for any message is left out and handed to `onUnsendable`.
 *
 * Each run of up to `maxFrames` frames is encoded with one JSON.stringify call (the fast path); a run
 * that comes out too large, or fails to encode, is split in halves until every part fits.
 */
export function packFrames<F extends object>(
  frames: readonly F[],
  limits: MessageLimits,
  onUnsendable: (frame: F, error: EntityError) => void,
): string[] {
  const messages: string[] = [];
  for (let from = 0; from < frames.length; from += limits.maxFrames) {
    packRange(frames, from, Math.min(frames.length, from + limits.maxFrames), limits.maxBytes, messages, onUnsendable);
  }
  return messages;
}

function packRange<F extends object>(
  frames: readonly F[],
  from: number,
  to: number,
  maxBytes: number,
  messages: string[],
  onUnsendable: (frame: F, error: EntityError) => void,
): void {
  let text: string | undefined;
  let failure: unknown;
  try {
    if (to - from === 1) text = JSON.stringify(frames[from]);
    else text = JSON.stringify(from === 0 && to === frames.length ? frames : frames.slice(from, to));
  } catch (error) {
    failure = error;
  }
  if (text !== undefined && fits(text, maxBytes)) {
    messages.push(text);
    return;
  }
  if (to - from > 1) {
    const middle = from + ((to - from) >> 1);
    packRange(frames, from, middle, maxBytes, messages, onUnsendable);
    packRange(frames, middle, to, maxBytes, messages, onUnsendable);
    return;
  }
  const frame = frames[from] as F;
  if (text === undefined) {
    const reason = failure instanceof Error ? failure.message : "it is not a JSON value";
    onUnsendable(frame, new EntityError(ErrorCode.bad_request, `the request cannot be encoded as JSON: ${reason}`));
  } else {
    onUnsendable(frame, new EntityError(ErrorCode.payload_too_large, `the request is ${utf8Length(text)} bytes; a message may be at most ${maxBytes} bytes`));
  }
}

// True when the UTF-8 form of `text` is at most `maxBytes` (a UTF-16 unit is at most 3 UTF-8 bytes).
function fits(text: string, maxBytes: number): boolean {
  return text.length <= maxBytes && (text.length * 3 <= maxBytes || utf8Length(text) <= maxBytes);
}

const NON_ASCII = /[^\x00-\x7f]/;

/** The UTF-8 length of a string (JSON.stringify output holds no lone surrogates). */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
