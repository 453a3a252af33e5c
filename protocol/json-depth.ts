/** How deeply a value carried by a frame (an input, event data, a reason) may nest. */
export const MAX_VALUE_DEPTH = 256;

/**
 * True when `value` nests arrays and objects deeper than `max` levels. Iterative, so a value nested
 * 100,000 deep (JSON.parse builds one happily) is judged without overflowing the stack, which
 * JSON.stringify and every recursive walk of it would do.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(current) ? current : Object.values(current as object);
    for (const child of children) if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}
