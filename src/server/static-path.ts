/**
 * A request path, checked before it goes near the file system: the file segments it names under the
 * static directory, or why it names none.
 */
export type StaticPath =
  | { readonly ok: true; readonly segments: readonly string[]; readonly directory: boolean }
  | { readonly ok: false; readonly status: 400 | 404; readonly message: string };

/**
 * Splits a raw (percent-encoded) request path into decoded segments. Refused with 400: malformed
 * percent-encoding, `.` and `..` segments (also encoded), separators or NUL inside a segment (`%2F`,
 * `%5C`, `\`, `%00`). Refused with 404, as if missing: hidden names (a segment starting with `.`,
 * such as `.env` or `.git`). Empty segments (`a//b`) are skipped; a trailing `/` asks for a directory.
 */
export function parseStaticPath(path: string): StaticPath {
  const raw = path.split("/");
  const segments: string[] = [];
  for (const part of raw) {
    if (part === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { ok: false, status: 400, message: "the path has malformed percent-encoding" };
    }
    if (segment === "." || segment === "..") return { ok: false, status: 400, message: "the path may not have . or .. segments" };
    if (/[/\\\0]/.test(segment)) return { ok: false, status: 400, message: "a path segment may not hold a slash, a backslash or NUL (encoded or not)" };
    if (segment.startsWith(".")) return { ok: false, status: 404, message: "hidden files (names starting with .) are not served" };
    segments.push(segment);
  }
  return { ok: true, segments, directory: segments.length === 0 || path.endsWith("/") };
}
