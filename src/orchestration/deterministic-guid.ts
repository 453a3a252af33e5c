import { createHash } from "node:crypto";

/** The namespace Durable Functions uses for its deterministic GUIDs (UUID v5). */
const NAMESPACE = Buffer.from("9e9529585e334daf827f2fa12937b875", "hex");

/**
 * A name-based UUID (RFC 4122 version 5: SHA-1 of a namespace and the name). The same name gives
 * the same UUID, so `ctx.newGuid()` built from the instance id, the turn's time and a counter is the
 * same on every replay.
 */
export function nameBasedUuid(name: string): string {
  const hash = createHash("sha1").update(NAMESPACE).update(name, "utf8").digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
