import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { isEntityId, isKeyText } from "../../../protocol/index.js";
import { TempStores } from "../support/temp-dir.js";

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

/**
 * Characters at every edge of the key encoder: the escapes it uses below U+0005, other controls, the
 * 1-, 2-, 3- and 4-byte UTF-8 limits, lone and paired surrogates, U+FFFD (what a lone surrogate
 * became in UTF-8), and its 64-unit switch between two ways of writing strings.
 */
const edgeChars = fc.constantFrom(
  "k", "\u0000", "\u0001", "\u0004", "\u0005", "\u001b", "\u001f", " ", "\u007f", "\u0085", "\u00a0",
  "\u07ff", "\u0800", "\ufffd", "\uffff", "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d\ude00", "/",
);
/** Keys of 50 to 80 UTF-16 units: across the encoder's 64-unit boundary (the `Counter/` prefix adds 8). */
const keys = fc
  .tuple(fc.integer({ min: 50, max: 80 }), fc.array(edgeChars, { minLength: 1, maxLength: 8 }))
  .map(([length, chars]) => {
    let key = "";
    for (let i = 0; key.length < length; i++) key += i % 3 === 0 ? chars[i % chars.length] : "k";
    return key;
  });
const acceptedIds = fc.uniqueArray(
  fc.oneof(keys, fc.array(edgeChars, { maxLength: 6 }).map((chars) => `k${chars.join("")}`)).map((key) => `Counter/${key}`).filter(isEntityId),
  { minLength: 2, maxLength: 40 },
);

describe("storage keys of accepted ids", () => {
  it("refuses the ids that used to share a record (lone surrogates past 64 units, escapes below it)", () => {
    const long = `Counter/${"k".repeat(70)}`;
    expect(isEntityId(`${long}\ud83d`)).toBe(false);
    expect(isEntityId(`${long}\ud806`)).toBe(false);
    expect(isEntityId(`Counter/${"\u0001".repeat(40)}`)).toBe(false);
    expect(isEntityId(`Counter/${"\u0004\u0001".repeat(40)}`)).toBe(false);
    expect(isKeyText("app-\ud800")).toBe(false);
    expect(isKeyText("app-\ud801")).toBe(false);
    expect(isKeyText("app-\ud83d\ude00")).toBe(true);
  });

  it("never map two distinct accepted entity ids or client ids to one record (a real LMDB store)", async () => {
    const store = await stores.openStore(stores.newDir(), 1); // one partition: every id competes for the same key space
    let written = 0;
    await fc.assert(
      fc.asyncProperty(acceptedIds, async (ids) => {
        const batch = store.newBatch();
        ids.forEach((id, n) => {
          batch.putEntity(id, { version: written + n + 1, state: id });
          batch.putSignalMark("Counter/marks", id.slice("Counter/".length), [written + n + 1, 0]);
        });
        await store.commit(batch);
        ids.forEach((id, n) => {
          expect(store.readEntity(id)).toEqual({ version: written + n + 1, state: id });
          expect(store.readSignalMark("Counter/marks", id.slice("Counter/".length))).toEqual([written + n + 1, 0]);
        });
        const marks = store.readSignalMarks(0, 100_000).entries.filter(([entity]) => entity === "Counter/marks");
        for (const id of ids) expect(marks.some(([, clientId, mark]) => clientId === id.slice(8) && mark[0] === written + ids.indexOf(id) + 1)).toBe(true);
        written += ids.length;
      }),
      { numRuns: 300 },
    );
  });
});
