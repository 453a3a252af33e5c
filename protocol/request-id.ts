import * as z from "zod";

/** A request id, chosen by the client and echoed by the answer. Signal ids also de-duplicate resends. */
export const RequestId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
