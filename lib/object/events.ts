/**
 * Event readers over ring buffer and perf event array maps: a synchronous `poll()` that drains
 * what is available now, and async iteration driven by the backend's readiness notification (no
 * busy polling, no blocked thread):
 *
 *   for await (const ev of map.ringbuf<Event>({ type: 'struct event' })) { ... }
 *
 * Records are `Uint8Array` copies unless a decoder is given.
 */
import type { BackendEventReader } from '../backend.js';
import { BpfError } from '../errors.js';

export class EventReader<T = Uint8Array> implements AsyncIterable<T> {
  private closed = false;
  private readonly queue: T[] = [];
  private readonly onClose: (() => void) | undefined;
  private wake: (() => void) | undefined;

  /** @internal */
  constructor(
    private readonly reader: BackendEventReader,
    private readonly decode: (record: Uint8Array) => T,
    readonly mapName: string,
    onClose?: () => void,
  ) {
    this.onClose = onClose;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private drain(): void {
    this.reader.poll((rec) => {
      this.queue.push(this.decode(rec.slice()));
    });
  }

  /** Every record available now (possibly none), without blocking. */
  poll(): T[] {
    if (this.closed) throw new BpfError('CLOSED', `poll ${this.mapName}: the reader is closed`);
    this.drain();
    return this.queue.splice(0);
  }

  /** Resolve with the next record, waiting for one (rejects when the reader is closed meanwhile). */
  async next(): Promise<T | undefined> {
    for (;;) {
      if (this.queue.length) return this.queue.shift();
      if (this.closed) return undefined;
      this.drain();
      if (this.queue.length) return this.queue.shift();
      await new Promise<void>((resolve, reject) => {
        this.wake = resolve;
        this.reader.readable().then(resolve, (e: unknown) => (this.closed ? resolve() : reject(e)));
      });
      this.wake = undefined;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const v = await this.next();
      if (v === undefined) return;
      yield v;
    }
  }

  /** Stop reading; a pending `for await` ends. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.reader.close();
    } finally {
      this.wake?.();
      this.onClose?.();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
