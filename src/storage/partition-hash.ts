/**
 * FNV-1a over the UTF-16 code units of an id, finished with murmur3's avalanche so that every bit of
 * the id reaches the low bits. Stable across processes and versions: an id's partition never moves.
 */
export function partitionOf(id: string, partitionCount: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % partitionCount;
}
