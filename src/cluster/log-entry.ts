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

/**
 * An entry larger than a NATS message may be (`max_payload`, 1 MiB by default) is appended as several
 * log messages, chunks of its bytes: each starts with CHUNK (an entry's JSON starts with "{"), then its
 * index and the chunk count (32 bits each). The entry counts only once its last chunk is in the log,
 * at that chunk's position; chunks of a commit that did not complete are skipped when read.
 */
const CHUNK = 0x01;
const CHUNK_HEADER_BYTES = 9;

/** The log messages of one entry: the entry itself, or its chunks when it is larger than `maxBytes`. */
export function encodeEntryMessages(writes: readonly StoreWrite[], maxBytes: number): Uint8Array[] {
  const whole = encodeEntry(writes);
  if (whole.length <= maxBytes) return [whole];
  const size = maxBytes - CHUNK_HEADER_BYTES;
  const count = Math.ceil(whole.length / size);
  return Array.from({ length: count }, (_, index) => {
    const body = whole.subarray(index * size, (index + 1) * size);
    const chunk = new Uint8Array(CHUNK_HEADER_BYTES + body.length);
    const view = new DataView(chunk.buffer);
    chunk[0] = CHUNK;
    view.setUint32(1, index);
    view.setUint32(5, count);
    chunk.set(body, CHUNK_HEADER_BYTES);
    return chunk;
  });
}

/** Reads a log's messages in order back into entries, putting chunks together. */
export class EntryReader {
  private chunks: Uint8Array[] = [];

  /** The writes of the entry this message completes; undefined for a chunk that does not complete one. */
  next(data: Uint8Array): StoreWrite[] | undefined {
    if (data[0] !== CHUNK) {
      this.chunks = [];
      return decodeEntry(data);
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const index = view.getUint32(1);
    const count = view.getUint32(5);
    if (index === 0) this.chunks = [];
    if (index !== this.chunks.length) {
      this.chunks = []; // the rest of an entry whose commit did not complete
      return undefined;
    }
    this.chunks.push(data.subarray(CHUNK_HEADER_BYTES));
    if (index < count - 1) return undefined;
    const whole = new Uint8Array(this.chunks.reduce((total, chunk) => total + chunk.length, 0));
    let at = 0;
    for (const chunk of this.chunks) {
      whole.set(chunk, at);
      at += chunk.length;
    }
    this.chunks = [];
    return decodeEntry(whole);
  }
}
