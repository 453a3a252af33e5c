import type { FailedSignalWire, FailurePageWire } from "../../protocol/index.js";
import { MAX_REPORTED_IDS, type CleanReport } from "../runtime/index.js";
import { MAX_PAGE_CHARS as MAX_FAILURE_PAGE_CHARS } from "../runtime/dead-letter-book.js";
import { compareIds, entityTypeOf, type EntityListing, type ListedEntity } from "../storage/index.js";
import type { EntitiesAnswer, FailuresAnswer } from "./partition-queries.js";

/**
 * How the partitions' parts of a listing become the page one server would give (cluster-listings.ts
 * gathers the parts). Each part holds everything of its partition down to a bound (the last record it
 * read); the page holds only what every part covers, so nothing is skipped, and its continuation is one
 * a single server would give: a position in the listing's global order, valid on every node.
 */

/** About the most bytes of records an entity page carries (entity-listing.ts's bound). */
const MAX_ENTITY_PAGE_BYTES = 1024 * 1024;

/**
 * One page of an entity listing, in id order across partitions, from each partition's page of the same
 * query (each covers its ids up to its `next`; ids past the lowest such bound may be missing from the
 * parts that stopped there, so the page ends at it). `next` is the last id covered, as from one store.
 * With `count`, the parts' counts summed.
 */
export function mergeEntityPages(parts: readonly EntitiesAnswer[], query: { readonly pageSize: number; readonly includeState?: boolean | undefined }): { listing: EntityListing; count?: number } {
  let bound: string | undefined;
  for (const part of parts) if (part.next !== undefined && (bound === undefined || compareIds(part.next, bound) < 0)) bound = part.next;
  const candidates = parts
    .flatMap((part) => part.entities)
    .filter((entity) => bound === undefined || compareIds(entity.id, bound) <= 0)
    .sort((a, b) => compareIds(a.id, b.id));
  const counted = parts.every((part) => part.count !== undefined) ? { count: parts.reduce((sum, part) => sum + part.count!, 0) } : {};
  const entities: ListedEntity[] = [];
  let bytes = 0;
  for (const entity of candidates) {
    if (entities.length >= query.pageSize || bytes >= MAX_ENTITY_PAGE_BYTES) return { listing: { entities, next: entities[entities.length - 1]!.id }, ...counted };
    entities.push(entity);
    bytes += query.includeState === true ? JSON.stringify(entity).length : entity.id.length + 40;
  }
  return { listing: bound === undefined ? { entities } : { entities, next: bound }, ...counted };
}

/** A partition's failures, with the partition (it orders failures that share a number). */
export interface PartitionFailures extends FailuresAnswer {
  readonly partition: number;
}

/**
 * One page of failures, newest first (highest `seq`) across partitions, as `DeadLetterBook.list` gives
 * it from one store: at most `limit`, about 1 MiB, and `next` (pass it as `before`) when more may
 * follow. Each node numbers the failures it records, so two partitions can hold failures with one
 * number; `before` takes only lower numbers, so a page never ends between two failures that share its
 * last number: it ends before them (or, when they alone fill more than the page, holds all of them).
 */
export function mergeFailures(parts: readonly PartitionFailures[], limit: number): FailurePageWire {
  /** Parts that stopped early cover their failures down to their last one: the page goes no lower than the highest such. */
  let bound: number | undefined;
  for (const part of parts) {
    const last = part.failures[part.failures.length - 1];
    if (part.more && last !== undefined && (bound === undefined || last.seq > bound)) bound = last.seq;
  }
  const candidates = parts
    .flatMap((part) => part.failures.map((failure) => ({ failure, partition: part.partition })))
    .filter(({ failure }) => bound === undefined || failure.seq >= bound)
    .sort((a, b) => b.failure.seq - a.failure.seq || a.partition - b.partition)
    .map(({ failure }) => failure);
  const failures: FailedSignalWire[] = [];
  let chars = 0;
  for (let i = 0; i < candidates.length; i++) {
    if (failures.length === limit || (failures.length > 0 && chars >= MAX_FAILURE_PAGE_CHARS)) return endBefore(failures, candidates, i, bound);
    const failure = candidates[i]!;
    chars += JSON.stringify(failure).length;
    failures.push(failure);
  }
  // Everything numbered `bound` or higher is on this page: the next one starts below it.
  return bound === undefined ? { failures } : { failures, next: bound };
}

/** A full page that stops before `candidates[at]`, never between two failures of one number. */
function endBefore(failures: FailedSignalWire[], candidates: readonly FailedSignalWire[], at: number, bound: number | undefined): FailurePageWire {
  const last = failures[failures.length - 1]!.seq;
  if (candidates[at]!.seq !== last) return { failures, next: last };
  let end = failures.length;
  while (end > 0 && failures[end - 1]!.seq === last) end--;
  if (end > 0) return { failures: failures.slice(0, end), next: failures[end - 1]!.seq };
  // Failures of one number fill more than a page: all of them, so that none is skipped.
  const group = candidates.filter((failure) => failure.seq === last);
  return group.length < candidates.length || bound !== undefined ? { failures: group, next: last } : { failures: group };
}

/**
 * The partitions' clean reports as one: counts summed, and the first ids of each kind in the order
 * one server cleans them (type by type in `typeOrder`, ids in order within a type). Each report lists
 * its partition's first ids in that order, so the first of all are among them.
 */
export function mergeCleanReports(reports: readonly CleanReport[], typeOrder: readonly string[]): CleanReport {
  const rank = (id: string) => {
    const index = typeOrder.indexOf(entityTypeOf(id));
    return index < 0 ? typeOrder.length : index;
  };
  const order = (a: string, b: string) => rank(a) - rank(b) || compareIds(a, b);
  return {
    removedEmpty: reports.reduce((sum, report) => sum + report.removedEmpty, 0),
    locksFreed: reports.reduce((sum, report) => sum + report.locksFreed, 0),
    removed: reports.flatMap((report) => report.removed).sort(order).slice(0, MAX_REPORTED_IDS),
    unlocked: reports.flatMap((report) => report.unlocked).sort(order).slice(0, MAX_REPORTED_IDS),
  };
}
