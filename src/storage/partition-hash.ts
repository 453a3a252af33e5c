/**
 * FNV-1a over the UTF-16 code units of a text, finished with murmur3's avalanche so that every bit of
 * the text reaches the low bits. Stable across processes and versions.
 */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** The partition of an entity id or instance id: an id's partition never moves. */
export function partitionOf(id: string, partitionCount: number): number {
  return stableHash(id) % partitionCount;
}
