import { stableHash } from "../storage/index.js";

/**
 * How many partitions a node should hold, and which ones it prefers.
 *
 * The share is an even split with the remainder going to the first live nodes by name: 16 partitions
 * on nodes a, b, c give a 6, b 5 and c 5. The shares add up to the partition count, so once every node
 * sees the same live nodes, a node under its share finds the partitions it lacks free, and no node
 * takes one back that another gave up. (A plain ceil(partitions / nodes) for everyone can leave a
 * newcomer short for good: 6 + 6 + 4, with no node over its share and nothing free.)
 */
export function fairShare(partitionCount: number, liveNodes: readonly string[], node: string): number {
  const sorted = [...new Set(liveNodes)].sort();
  const rank = sorted.indexOf(node);
  if (rank < 0) return 0;
  const base = Math.floor(partitionCount / sorted.length);
  return base + (rank < partitionCount % sorted.length ? 1 : 0);
}

/**
 * Rendezvous (highest random weight) hashing: how much `node` prefers `partition`. A node takes the
 * partitions it prefers most and gives up the one it prefers least, so different nodes reach for
 * different partitions first (fewer lost compare-and-set races), and the same ones on every run.
 */
export function preference(node: string, partition: number): number {
  return stableHash(`${node}/${partition}`);
}
