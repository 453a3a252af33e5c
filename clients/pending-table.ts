/**
 * Requests awaiting an answer, by id. Ids are handed out in increasing order, so a sliding array
 * (index = id - base) replaces a hash map: no hashing and no rehashing on the hot path.
 */
export class PendingTable<T> {
  private slots: (T | undefined)[] = [];
  private head = 0;
  private base = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds an entry; `id` must be larger than every id added before. */
  add(id: number, value: T): void {
    if (this.count === 0) this.reset(id);
    let index = id - this.base;
    if (index < this.slots.length) throw new RangeError(`request id ${id} is not larger than the previous one`);
    while (this.slots.length < index) this.slots.push(undefined);
    this.slots.push(value);
    this.count++;
  }

  /** Removes and returns the entry for `id`, if any. */
  take(id: number): T | undefined {
    const index = id - this.base;
    if (index < this.head || index >= this.slots.length) return undefined;
    const value = this.slots[index];
    if (value === undefined) return undefined;
    this.slots[index] = undefined;
    if (--this.count === 0) this.reset(0);
    else if (index === this.head) this.advance();
    return value;
  }

  /** The entries, oldest first. */
  *values(): IterableIterator<T> {
    for (let i = this.head; i < this.slots.length; i++) {
      const value = this.slots[i];
      if (value !== undefined) yield value;
    }
  }

  /** Removes and returns every entry, oldest first. */
  drain(): T[] {
    const values = [...this.values()];
    this.reset(0);
    return values;
  }

  private advance(): void {
    while (this.head < this.slots.length && this.slots[this.head] === undefined) this.head++;
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }

  private reset(base: number): void {
    this.slots = [];
    this.head = 0;
    this.base = base;
    this.count = 0;
  }
}
