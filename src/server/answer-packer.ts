/** Largest number of frames the server puts in one outgoing message. */
const MAX_FRAMES_PER_SENT_MESSAGE = 2000;
/** Frames are packed into messages of about this size (counted in UTF-16 units); a larger frame goes alone. */
const SENT_MESSAGE_BYTES = 1024 * 1024;

/**
 * Encodes answer frames one at a time into messages of about a MiB (at most 2,000 frames each).
 * Returns undefined, having built no more than `limit` bytes, when the answers would pass `limit`:
 * a small request (hundreds of `get`s of a large entity) must not make the server build gigabytes.
 */
export function packAnswers(frames: readonly object[], limit: number): string[] | undefined {
  const messages: string[] = [];
  let parts: string[] = [];
  let partBytes = 0;
  let total = 0;
  for (const frame of frames) {
    const text = JSON.stringify(frame);
    total += text.length;
    if (total > limit) return undefined;
    if (parts.length > 0 && (partBytes + text.length > SENT_MESSAGE_BYTES || parts.length >= MAX_FRAMES_PER_SENT_MESSAGE)) {
      messages.push(joinFrames(parts));
      parts = [];
      partBytes = 0;
    }
    parts.push(text);
    partBytes += text.length;
  }
  if (parts.length > 0) messages.push(joinFrames(parts));
  return messages;
}

/** One message from frames encoded one by one: a frame alone, or a JSON array of them. */
function joinFrames(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0]! : `[${parts.join(",")}]`;
}
