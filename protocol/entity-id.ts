import * as z from "zod";
import { isKeyText, KEY_TEXT_RULE } from "./key-text.js";

/** An entity type's name: a letter or underscore, then letters, digits, `_`, `.` or `-`. */
export const ENTITY_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const MAX_KEY_LENGTH = 512;

/** The parts of an entity id `Name/key`. */
export interface EntityIdParts {
  readonly name: string;
  readonly key: string;
}

/** `Name/key`, the key without control characters or lone surrogates (see key-text.ts); its length is checked apart, in UTF-16 units. */
const ENTITY_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}\/[^\p{Cc}\p{Cs}]+$/u;

/** True for a well-formed `Name/key` (a regex test and no allocation: the hot path's check). */
export function isEntityId(id: string): boolean {
  return ENTITY_ID_PATTERN.test(id) && id.length - id.indexOf("/") - 1 <= MAX_KEY_LENGTH;
}

/** Splits `Name/key` (the key may itself contain `/`); returns undefined when the id is malformed. */
export function parseEntityId(id: string): EntityIdParts | undefined {
  const slash = id.indexOf("/");
  if (slash <= 0) return undefined;
  const name = id.slice(0, slash);
  const key = id.slice(slash + 1);
  if (!ENTITY_NAME_PATTERN.test(name) || key.length === 0 || key.length > MAX_KEY_LENGTH || !isKeyText(key)) return undefined;
  return { name, key };
}

/** An entity id on the wire: `Name/key`, e.g. `Counter/alice`. */
export const EntityId = z.string().refine(isEntityId, {
  message: `entity id must look like Name/key (e.g. Counter/alice), the key at most ${MAX_KEY_LENGTH} characters of ${KEY_TEXT_RULE}`,
});
export type EntityId = z.infer<typeof EntityId>;
