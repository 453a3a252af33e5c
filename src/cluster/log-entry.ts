import type { StoreWrite } from "../storage/index.js";

/**
 * The bytes of one log entry: a partition's writes of one commit, as the store encoded them (keys as
 * arrays, values as the JSON strings the store keeps; null deletes). Format 1.
 */
interface EncodedEntry {
  readonly v: 1;
  readonly w: Array<[key: StoreWrite["key"], value: string | null]>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEntry(writes: readonly StoreWrite[]): Uint8Array {
  const entry: EncodedEntry = { v: 1, w: writes.map(({ key, value }) => [key, value ?? null]) };
  return encoder.encode(JSON.stringify(entry));
}

/** The writes of an entry; throws on bytes that are not an entry of a format this build reads. */
export function decodeEntry(data: Uint8Array): StoreWrite[] {
  const entry = JSON.parse(decoder.decode(data)) as Partial<EncodedEntry>;
  if (entry.v !== 1 || !Array.isArray(entry.w)) throw new Error(`a log entry of an unknown format (${String(entry.v)})`);
  return entry.w.map(([key, value]) => ({ key, value: value ?? undefined }));
}
