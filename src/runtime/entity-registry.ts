import { EntityError, ErrorCode, isEntityId } from "../../protocol/index.js";
import type { EntityDefinition } from "./define-entity.js";

/** The entity types an app defines, by name, and the checks that turn a bad id or operation into an error. */
export class EntityRegistry {
  private readonly byName = new Map<string, EntityDefinition>();

  constructor(definitions: Iterable<EntityDefinition>) {
    for (const definition of definitions) {
      if (this.byName.has(definition.name)) throw new Error(`entity type "${definition.name}" is defined twice`);
      this.byName.set(definition.name, definition);
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  definition(name: string): EntityDefinition | undefined {
    return this.byName.get(name);
  }

  /** An error for an id whose type is not hosted here, or an operation that type lacks; undefined when fine. */
  check(entityId: string, operation?: string): EntityError | undefined {
    if (!isEntityId(entityId)) {
      return new EntityError(ErrorCode.bad_request, `entity id "${entityId}" must look like Name/key (e.g. Counter/alice)`);
    }
    const name = entityId.slice(0, entityId.indexOf("/"));
    const definition = this.byName.get(name);
    if (definition === undefined) {
      return new EntityError(ErrorCode.unknown_entity, `no entity type "${name}" on this server (it has: ${this.names.join(", ") || "none"})`);
    }
    if (operation !== undefined && definition.kind === "operations" && !Object.hasOwn(definition.operations, operation)) {
      return new EntityError(
        ErrorCode.unknown_operation,
        `entity type "${name}" has no operation "${operation}" (it has: ${Object.keys(definition.operations).join(", ")})`,
      );
    }
    return undefined;
  }
}
