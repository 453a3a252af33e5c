import { checkedScope } from "./log-names.js";

/**
 * Where a hub's partition leases live: one JetStream KV bucket per hub, `DE_<hub>_LEASES`, holding a
 * key per partition (`p.<partition>`, its lease) and a key per node (`n.<node>`, its heartbeat).
 */
export interface LeaseBucketAddress {
  readonly bucket: string;
  /** The stream behind the bucket (KV buckets are streams named `KV_<bucket>`). */
  readonly stream: string;
  /** The subject filter that matches every heartbeat key of the bucket. */
  readonly heartbeatSubjects: string;
}

/** Node names become key tokens, so they keep to the characters a KV key token allows, and no dots. */
const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function leaseBucketAddress(hub: string): LeaseBucketAddress {
  const name = checkedScope(hub);
  const bucket = `DE_${name}_LEASES`;
  return { bucket, stream: `KV_${bucket}`, heartbeatSubjects: `$KV.${bucket}.${heartbeatKey("*")}` };
}

export function partitionLeaseKey(partition: number): string {
  return `p.${partition}`;
}

export function heartbeatKey(node: string): string {
  return `n.${node}`;
}

/** The node a heartbeat's stream subject names (`$KV.<bucket>.n.<node>`). */
export function nodeOfHeartbeatSubject(subject: string): string {
  return subject.slice(subject.lastIndexOf(".") + 1);
}

export function checkNodeName(node: string): void {
  if (!NODE_NAME.test(node)) throw new Error(`node name must be 1 to 64 letters, digits, "-" or "_", not "${node}"`);
}
