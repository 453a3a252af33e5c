/**
 * Text that becomes part of a storage key (entity ids, client ids, later instance ids) must be
 * well-formed Unicode without control characters: a lone surrogate has no UTF-8 form (encoders turn
 * every one into U+FFFD, so two ids would share one key), and control characters are what key
 * encoders use as separators and escapes. Azure Storage, under Durable Functions, refuses the same
 * control characters (U+0000–U+001F, U+007F–U+009F) in its keys.
 */
const FORBIDDEN_IN_KEY_TEXT = /[\p{Cc}\p{Cs}]/u;

/** True when `text` is well-formed Unicode with no control characters. */
export function isKeyText(text: string): boolean {
  return !FORBIDDEN_IN_KEY_TEXT.test(text);
}

/** What to tell a person whose id was refused by `isKeyText`. */
export const KEY_TEXT_RULE = "well-formed Unicode without control characters (no lone surrogates, nothing in U+0000–U+001F or U+007F–U+009F)";
