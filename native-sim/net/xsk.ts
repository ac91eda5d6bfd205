/**
 * Simulated AF_XDP sockets: bound to an interface queue, they receive the frames an XDP program
 * redirects to them through an xskmap (the slot value is the socket's `id`, where the kernel
 * takes the socket fd). Frames land in `rx` (bounded like a ring; overflow counts `rxDropped`).
 */
import { registerXsk, unregisterXsk, type XskTarget } from '../maps/xskmap.js';

let nextXskId = 1;

export class XskSocket implements XskTarget {
  readonly id: number;
  readonly ifname: string;
  readonly ifindex: number;
  readonly queueId: number;
  readonly ringSize: number;
  readonly rx: Uint8Array[] = [];
  rxDropped = 0;

  constructor(ifname: string, ifindex: number, queueId: number, ringSize = 2048) {
    this.id = nextXskId++;
    this.ifname = ifname;
    this.ifindex = ifindex;
    this.queueId = queueId;
    this.ringSize = ringSize;
    registerXsk(this);
  }

  deliver(frame: Uint8Array): boolean {
    if (this.rx.length >= this.ringSize) {
      this.rxDropped++;
      return false;
    }
    this.rx.push(frame.slice());
    return true;
  }

  /** Take every received frame. */
  receive(): Uint8Array[] {
    return this.rx.splice(0, this.rx.length);
  }

  close(): void {
    unregisterXsk(this.id);
  }
}
