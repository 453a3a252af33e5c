/** The longest the app waits for owed responses before it cuts them (the ws transport cuts them at once). */
const GRACE_MS = 5000;

/**
 * How the uWebSockets.js transport lets go of its HTTP connections when it closes. Closing the listen
 * socket leaves the keep-alive connections open, and uWebSockets.js goes on routing their requests to
 * the closed server. Its app's `close()` closes every socket, but would also cut the responses still
 * being worked out (an upgrade whose authentication is under way is owed its `503`). So: from `close`
 * on, a new request is answered `503 shutting_down`; once no response is owed, or after a grace period
 * at most, the app is closed.
 */
export class UwsShutdown {
  /** Responses owed: HTTP requests and upgrades begun and neither answered nor aborted. */
  private owed = 0;
  private closeApp: (() => void) | undefined;
  private closing = false;

  get isClosing(): boolean {
    return this.closing;
  }

  /** A request began; call the function it returns once it is answered or aborted (later calls do nothing). */
  begin(): () => void {
    this.owed++;
    let settled = false;
    return () => {
      if (settled) return;
      settled = true;
      this.owed--;
      if (this.closing && this.owed === 0) setImmediate(() => this.closeNow()); // after the last answer is written out
    };
  }

  /** Closes the app now if no response is owed, else once the last is (within the grace period). */
  close(closeApp: () => void): void {
    this.closing = true;
    this.closeApp = closeApp;
    if (this.owed === 0) this.closeNow();
    else setTimeout(() => this.closeNow(true), GRACE_MS).unref();
  }

  private closeNow(evenIfOwed = false): void {
    if (this.owed > 0 && !evenIfOwed) return; // one more began meanwhile: its settling closes the app
    const closeApp = this.closeApp;
    this.closeApp = undefined;
    closeApp?.();
  }
}
