import { EntityError, ErrorCode, isEntityId } from "../../protocol/index.js";
import type { EntityDefinition } from "./define-entity.js";

/** How much of a name from a request an error message repeats (it costs bytes per refused frame). */
export const MAX_QUOTED_CHARS = 64;
/** How many of the app's entity types or operations an error message lists... */
export const MAX_LISTED_NAMES = 10;
/** ...and in how many characters at most (type names may have 128, operation names any number). */
export const MAX_LIST_CHARS = 200;

/**
 * A name from a request, for an error message: JSON-quoted (so control characters and quotes stay
 * readable), and cut to its first `MAX_QUOTED_CHARS` characters, marked after the closing quote
 * (`"abc…"` would be ambiguous; this is `"abc"… (5000 characters)`).
 */
export function quoteRequested(name: string): string {
  return name.length <= MAX_QUOTED_CHARS ? JSON.stringify(name) : `${JSON.stringify(cut(name))}… (${name.length} characters)`;
}

/**
 * The app's names for an error message: at most `MAX_LISTED_NAMES` of them in at most about
 * `MAX_LIST_CHARS` characters (each cut to `MAX_QUOTED_CHARS`), then how many more there are.
 */
export function listNames(names: readonly string[]): string {
  if (names.length === 0) return "none";
  const listed: string[] = [];
  let chars = 0;
  for (const name of names) {
    const shown = name.length <= MAX_QUOTED_CHARS ? name : `${cut(name)}…`;
    if (listed.length === MAX_LISTED_NAMES || (listed.length > 0 && chars + 2 + shown.length > MAX_LIST_CHARS)) break;
    listed.push(shown);
    chars += (listed.length > 1 ? 2 : 0) + shown.length;
  }
  const more = names.length - listed.length;
  return more === 0 ? listed.join(", ") : `${listed.join(", ")}, … and ${more} more`;
}

/** The first `MAX_QUOTED_CHARS` characters of `text`, without splitting a surrogate pair. */
function cut(text: string): string {
  let end = MAX_QUOTED_CHARS;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end);
}

/** The entity types an app defines, by name, and the checks that turn a bad id or operation into an error. */
export class EntityRegistry {
  private readonly byName = new Map<string, EntityDefinition>();
  private readonly typeList: string;
  private readonly operationLists = new Map<EntityDefinition, string>();

  constructor(definitions: Iterable<EntityDefinition>) {
    for (const definition of definitions) {
      if (this.byName.has(definition.name)) throw new Error(`entity type "${definition.name}" is defined twice`);
      this.byName.set(definition.name, definition);
      if (definition.kind === "operations") this.operationLists.set(definition, listNames(Object.keys(definition.operations)));
    }
    this.typeList = listNames(this.names);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  definition(name: string): EntityDefinition | undefined {
    return this.byName.get(name);
  }

  /**
   * An error for an id whose type is not hosted here, or an operation that type lacks; undefined when
   * fine. The messages repeat what was asked for (cut to `MAX_QUOTED_CHARS`) and list at most
   * `MAX_LISTED_NAMES` of the app's names, so a refused frame costs a bounded answer.
   */
  check(entityId: string, operation?: string): EntityError | undefined {
    if (!isEntityId(entityId)) {
      return new EntityError(ErrorCode.bad_request, `entity id ${quoteRequested(entityId)} must look like Name/key (e.g. Counter/alice)`);
    }
    const name = entityId.slice(0, entityId.indexOf("/"));
    const definition = this.byName.get(name);
    if (definition === undefined) {
      return new EntityError(ErrorCode.unknown_entity, `no entity type ${quoteRequested(name)} on this server (it has: ${this.typeList})`);
    }
    if (operation !== undefined && definition.kind === "operations" && !Object.hasOwn(definition.operations, operation)) {
      return new EntityError(
        ErrorCode.unknown_operation,
        `entity type "${name}" has no operation ${quoteRequested(operation)} (it has: ${this.operationLists.get(definition) ?? "none"})`,
      );
    }
    return undefined;
  }
}
