/**
 * `Link`: a live attachment of a program to a hook. Closing releases our reference: an unpinned
 * link is detached, a pinned one stays attached. `detach()` detaches even when pinned.
 */
import type { Backend, BackendLink, LinkInfo } from '../backend.js';
import { ArgumentError, BpfError } from '../errors.js';
import type { Owner } from './map.js';
import type { Program } from './program.js';
import { resolveBackend, type BackendOption } from './registry.js';

export class Link {
  private closed = false;
  private pinnedAt: string | undefined;

  /** @internal */
  constructor(
    /** @internal */ readonly handle: BackendLink,
    readonly backend: Backend,
    private program: Program | undefined,
    private readonly owner?: Owner,
  ) {}

  /** Open a link pinned at `path`. The caller owns (closes) it. */
  static async openPinned(path: string, opts: { backend?: BackendOption } = {}): Promise<Link> {
    if (typeof path !== 'string' || !path) throw new ArgumentError('open pinned link: path must be a non-empty string');
    const backend = await resolveBackend(opts.backend);
    const l = new Link(backend.openPinnedLink(path), backend, undefined);
    l.pinnedAt = path;
    return l;
  }

  get info(): LinkInfo {
    return this.handle.info;
  }

  get kind(): LinkInfo['kind'] {
    return this.handle.info.kind;
  }

  get id(): number {
    return this.handle.info.id;
  }

  get fd(): number | undefined {
    return this.handle.fd;
  }

  /** The program attached through this link (undefined for a link opened from a pin). */
  get attachedProgram(): Program | undefined {
    return this.program;
  }

  get pinned(): boolean {
    return this.pinnedAt !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private live(op: string): void {
    if (this.closed) throw new BpfError('CLOSED', `${op} link ${this.handle.info.target}: the link is closed`);
  }

  /** Atomically replace the attached program (where the hook supports it). */
  update(program: Program): void {
    this.live('update');
    this.handle.update(program.handle);
    this.program = program;
  }

  /** Pin at `path`: the attachment then outlives this process until unpinned/detached. */
  pin(path: string): void {
    this.live('pin');
    if (typeof path !== 'string' || !path) throw new ArgumentError(`pin link ${this.handle.info.target}: path must be a non-empty string`);
    this.handle.pin(path);
    this.pinnedAt = path;
  }

  /** Detach now (even if pinned) and release the link. */
  detach(): void {
    this.live('detach');
    this.closed = true;
    try {
      this.handle.detach();
    } finally {
      this.owner?.release(this);
    }
  }

  /** Release our reference; the attachment stays only if pinned. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.handle.close();
    } finally {
      this.owner?.release(this);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
