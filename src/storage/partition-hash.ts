/** FNV-1a over the UTF-16 code units of an id: stable across processes and versions, so partitions never move. */
export function partitionOf(id: string, partitionCount: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitionCount;
}
