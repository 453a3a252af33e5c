import * as z from "zod";
import { isKeyText, KEY_TEXT_RULE } from "./key-text.js";

/** Longest orchestration instance id, in UTF-16 units. */
export const MAX_INSTANCE_ID_LENGTH = 256;

/** True for an acceptable orchestration instance id: 1 to 256 characters of key text. */
export function isInstanceId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_INSTANCE_ID_LENGTH && isKeyText(id);
}

/** An orchestration instance id on the wire. */
export const InstanceId = z.string().refine(isInstanceId, {
  message: `instance id must be 1 to ${MAX_INSTANCE_ID_LENGTH} characters of ${KEY_TEXT_RULE}`,
});
