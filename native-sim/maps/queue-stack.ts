/**
 * BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO), kernel/bpf/queue_stack_maps.c:
 * key size 0, at most max_entries values. Push on a full map fails with E2BIG unless BPF_EXIST is
 * given, which drops the oldest element (for both queue and stack). Pop/peek of an empty map →
 * ENOENT (undefined from user space). Delete and iteration are not supported (EINVAL).
 */
import type { MapSpec } from '../../lib/spec/index.js';
import { Errno, SimMap, type SimMapOptions } from './base.js';

export class QueueStackMap extends SimMap {
  /** Oldest first. */
  protected readonly items: Uint8Array[] = [];
  readonly lifo: boolean;

  constructor(spec: MapSpec, opts: SimMapOptions, lifo: boolean) {
    super(spec, opts);
    this.lifo = lifo;
  }

  get length(): number {
    return this.items.length;
  }

  private push(vb: Uint8Array, voff: number, flags: number): number {
    if (flags !== 0 && flags !== 2) return -Errno.EINVAL;
    if (this.items.length >= this.info.maxEntries) {
      if (flags !== 2) return -Errno.E2BIG;
      this.items.shift();
    }
    this.items.push(vb.slice(voff, voff + this.info.valueSize));
    return 0;
  }

  private take(remove: boolean): Uint8Array | undefined {
    if (this.items.length === 0) return undefined;
    if (this.lifo) return remove ? this.items.pop() : this.items[this.items.length - 1];
    return remove ? this.items.shift() : this.items[0];
  }

  progLookup(): Uint8Array | null {
    return null;
  }
  progUpdate(_kb: Uint8Array, _koff: number, vb: Uint8Array, voff: number, flags: number): number {
    return this.push(vb, voff, flags);
  }
  progDelete(): number {
    return -Errno.EINVAL;
  }
  override progPush(vb: Uint8Array, voff: number, flags: number): number {
    return this.push(vb, voff, flags);
  }
  override progPop(dst: Uint8Array, doff: number): number {
    const v = this.take(true);
    if (!v) return -Errno.ENOENT;
    dst.set(v, doff);
    return 0;
  }
  override progPeek(dst: Uint8Array, doff: number): number {
    const v = this.take(false);
    if (!v) return -Errno.ENOENT;
    dst.set(v, doff);
    return 0;
  }
  override forEachElem(): number {
    return -Errno.ENOTSUPP;
  }

  lookup(key: Uint8Array | null): Uint8Array | undefined {
    if (key && key.length > 0) this.fail('peek', Errno.EINVAL, 'queue/stack maps take no key');
    return this.take(false)?.slice();
  }
  update(key: Uint8Array | null, value: Uint8Array, flags: number): void {
    if (key && key.length > 0) this.fail('push', Errno.EINVAL, 'queue/stack maps take no key');
    this.checkWritable('push');
    const r = this.push(value, 0, flags);
    if (r < 0) this.fail('push', -r, r === -Errno.E2BIG ? `full: max_entries ${this.info.maxEntries} (pass BPF_EXIST to overwrite the oldest)` : undefined);
  }
  delete(_key?: Uint8Array): void {
    this.fail('delete', Errno.EINVAL, 'queue/stack maps support push/pop/peek only');
  }
  nextKey(): Uint8Array | undefined {
    this.fail('next key', Errno.EINVAL, 'queue/stack maps cannot be iterated');
  }
  override lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined {
    if (key && key.length > 0) this.fail('pop', Errno.EINVAL, 'queue/stack maps take no key');
    this.checkWritable('pop');
    return this.take(true);
  }
  override lookupBatch(): never {
    this.fail('lookup batch', Errno.ENOTSUPP);
  }
  override updateBatch(): never {
    this.fail('update batch', Errno.ENOTSUPP);
  }
  override deleteBatch(): never {
    this.fail('delete batch', Errno.ENOTSUPP);
  }
}

export class QueueMap extends QueueStackMap {
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts, false);
  }
}

export class StackMap extends QueueStackMap {
  constructor(spec: MapSpec, opts: SimMapOptions) {
    super(spec, opts, true);
  }
}
