import { h } from "./dom.js";

/**
 * Previous/next paging over continuation tokens: it remembers the continuations of the pages before
 * the one shown, and asks `load` for a page by its continuation (undefined: the first).
 */
export class Pager {
  readonly previous = h("button", { type: "button", disabled: true }, "← previous");
  readonly next = h("button", { type: "button", disabled: true }, "next →");
  /** Continuations of the pages before this one (undefined: the first page). */
  private readonly pages: Array<string | undefined> = [];
  private current: string | undefined;
  private following: string | undefined;

  constructor(private readonly load: (continuation: string | undefined) => void) {
    this.next.addEventListener("click", () => {
      this.pages.push(this.current);
      this.load(this.following);
    });
    this.previous.addEventListener("click", () => this.load(this.pages.pop()));
  }

  /** The page asked for with `continuation` is shown; `following` is the one after it, if any. */
  shown(continuation: string | undefined, following: string | undefined): void {
    this.current = continuation;
    this.following = following;
    this.previous.disabled = this.pages.length === 0;
    this.next.disabled = following === undefined;
  }

  /** What the page says when it is empty. */
  emptyText(none: string): string {
    return this.following ? "nothing on this page; try next" : none;
  }

  /** Starts again from the first page (the filters changed). */
  restart(): void {
    this.pages.length = 0;
    this.load(undefined);
  }
}
