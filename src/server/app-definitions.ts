import { isActivityDefinition, isOrchestrationDefinition, type ActivityDefinition, type OrchestrationDefinition } from "../orchestration/index.js";
import { isEntityDefinition, type EntityDefinition } from "../runtime/index.js";

/** What an app module defines: its exported defineEntity, defineOrchestration and defineActivity results. */
export interface AppDefinitions {
  readonly entities: EntityDefinition[];
  readonly orchestrations: OrchestrationDefinition[];
  readonly activities: ActivityDefinition[];
}

/** Sorts an app (a module's exports, or a list of definitions) into its kinds; other values are ignored. */
export function collectDefinitions(app: Iterable<unknown> | Record<string, unknown>): AppDefinitions {
  const values = Symbol.iterator in app ? [...(app as Iterable<unknown>)] : Object.values(app);
  return {
    entities: values.filter(isEntityDefinition),
    orchestrations: values.filter(isOrchestrationDefinition),
    activities: values.filter(isActivityDefinition),
  };
}
