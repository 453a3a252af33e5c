import type { AccessTarget } from "./access.js";

/**
 * Grant patterns: `*` (everything), `Prefix*` (ids or names starting with Prefix: `Counter/*`,
 * `Counter/team-*`, `Order*`), or an exact id or name.
 */
export function patternCovers(pattern: string, target: AccessTarget): boolean {
  if (pattern === "*") return true;
  const prefix = pattern.endsWith("*") ? pattern.slice(0, -1) : undefined;
  switch (target.kind) {
    case "entity":
      return prefix === undefined ? target.id === pattern : target.id.startsWith(prefix);
    case "entities":
      // A listing is covered when every id it could show is: the grant's prefix is a prefix of the listing's.
      return prefix !== undefined && `${target.type}/${target.prefix ?? ""}`.startsWith(prefix);
    case "all-entities":
      return false;
    case "orchestration":
      if (target.name === "*") return false;
      return prefix === undefined ? target.name === pattern : target.name.startsWith(prefix);
  }
}
