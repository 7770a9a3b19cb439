/**
 * Serializes work per key inside one process: two updates of the same stack wait for each
 * other, updates of different stacks run in parallel. Across processes the engine's stack
 * lock does the same job; the runner retries its ConcurrentUpdate errors.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    this.tails.set(key, current);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }

  /** Keys with work queued or running. */
  get busyKeys(): string[] {
    return [...this.tails.keys()];
  }
}
