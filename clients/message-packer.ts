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
 */
export function packFrames<F extends object>(
  frames: readonly F[],
  limits: MessageLimits,
  onUnsendable: (frame: F, error: EntityError) => void,
): string[] {
  const messages: string[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const frame of frames) {
    let json: string;
    try {
      json = JSON.stringify(frame);
    } catch (error) {
      onUnsendable(frame, new EntityError(ErrorCode.bad_request, `the request cannot be encoded as JSON: ${(error as Error).message}`));
      continue;
    }
    const size = utf8Length(json);
    if (size + 2 > limits.maxBytes) {
      onUnsendable(frame, new EntityError(ErrorCode.payload_too_large, `the request is ${size} bytes; a message may be at most ${limits.maxBytes} bytes`));
      continue;
    }
    if (parts.length > 0 && (parts.length >= limits.maxFrames || bytes + 1 + size > limits.maxBytes)) {
      messages.push(joinFrames(parts));
      parts = [];
      bytes = 2;
    }
    bytes += parts.length === 0 ? size : size + 1;
    parts.push(json);
  }
  if (parts.length > 0) messages.push(joinFrames(parts));
  return messages;
}

function joinFrames(parts: string[]): string {
  return parts.length === 1 ? (parts[0] as string) : `[${parts.join(",")}]`;
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
