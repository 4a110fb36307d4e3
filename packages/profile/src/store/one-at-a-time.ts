/**
 * Work per key, one call at a time in this process: a call for a key starts once the calls for it before it have
 * ended (their failures stay theirs). Keys with nothing in flight hold no memory.
 */
export class OneAtATime {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** `work(waited)`: waited = another call for the key was in flight when this one came. */
  run<T>(key: string, work: (waited: boolean) => Promise<T>): Promise<T> {
    const before = this.tails.get(key);
    const mine = before === undefined ? work(false) : before.then(() => work(true));
    // Settles when `mine` does, either way; the key is let go unless a later call queued behind it meanwhile.
    const release = (): void => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    const tail = mine.then(release, release);
    this.tails.set(key, tail);
    return mine;
  }

  /** Keys with a call in flight. */
  get size(): number {
    return this.tails.size;
  }
}
