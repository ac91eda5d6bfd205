/**
 * The kernel Backend: load sessions (object BTF loaded once, maps created or reused by pin
 * name, programs loaded), pinned objects, interface indexes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  Backend, BackendLink, BackendMap, BackendProgram, LoadProgramOptions, LoadSession, LoadSessionOptions,
} from '../backend.js';
import { ArgumentError, BpfError } from '../errors.js';
import { type MapSpec, type ObjectSpec, type ProgramSpec } from '../spec/index.js';
import { Errno, loadBinding } from './binding.js';
import { loadBtf, vmlinuxBtf } from './btf.js';
import { KconfigMap } from './externs.js';
import { openPinnedLink } from './links.js';
import { effectiveFlags, effectiveMaxEntries, KernelMap } from './maps.js';
import { KernelProgram, loadProgram } from './programs.js';
import { closeFd, mkdirLevels, possibleCpus, syscallError, sys } from './sys.js';
import { MapFlag } from '../spec/index.js';

export const DEFAULT_PIN_ROOT = '/sys/fs/bpf';

/** Flags that must agree between a pinned map and a definition (others are creation hints). */
const COMPAT_FLAGS_MASK = ~(MapFlag.NumaNode | MapFlag.InnerMap) >>> 0;

function describe(m: { type: string; keySize: number; valueSize: number; maxEntries: number; flags: number }): string {
  return `${m.type} key ${m.keySize} B, value ${m.valueSize} B, max_entries ${m.maxEntries}, flags 0x${m.flags.toString(16)}`;
}

/** One object load: owns the object's BTF fd for as long as maps/programs are being created. */
export class KernelSession implements LoadSession {
  private btfFd = 0;
  private readonly pinRoot: string;
  private kconfig: KconfigMap | undefined;

  constructor(
    private readonly spec: ObjectSpec,
    opts: LoadSessionOptions = {},
  ) {
    this.pinRoot = opts.pinRoot ?? DEFAULT_PIN_ROOT;
    if (spec.btf && spec.btf.raw.length) this.btfFd = loadBtf(spec.btf.raw, spec.source);
  }

  /** The object's BTF fd in the kernel (0 when the object has no BTF). */
  get objectBtfFd(): number {
    return this.btfFd;
  }

  createMap(spec: MapSpec): BackendMap {
    if (spec.pinning === 'by_name') return this.createPinnedMap(spec);
    return this.createFresh(spec);
  }

  private createFresh(spec: MapSpec): KernelMap {
    const m = KernelMap.create(spec, { btfFd: this.btfFd });
    try {
      if (spec.initialData && spec.initialData.length && spec.maxEntries >= 1 && !(spec.flags & MapFlag.Rdonly)) {
        const key = new Uint8Array(spec.keySize);
        const value = new Uint8Array(m.valueBytes);
        value.set(spec.initialData.subarray(0, Math.min(spec.initialData.length, value.length)));
        m.update(key, value, 0);
      }
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  private createPinnedMap(spec: MapSpec): KernelMap {
    const path = join(this.pinRoot, spec.name);
    if (existsSync(path)) {
      const m = KernelMap.openPinned(path);
      const want = {
        type: spec.type,
        keySize: spec.keySize,
        valueSize: spec.valueSize,
        maxEntries: effectiveMaxEntries(spec),
        flags: effectiveFlags(spec) & COMPAT_FLAGS_MASK,
      };
      const have = { ...m.info, flags: m.info.flags & COMPAT_FLAGS_MASK };
      if (have.type !== want.type || have.keySize !== want.keySize || have.valueSize !== want.valueSize || have.maxEntries !== want.maxEntries || have.flags !== want.flags) {
        m.close();
        throw new BpfError(
          'MAP_INCOMPATIBLE',
          `create map ${spec.name}: the map pinned at ${path} (${describe(have)}) is incompatible with the definition in ${this.spec.source} (${describe(want)})`,
          { hint: `remove ${path} or change the definition` },
        );
      }
      (m.info as { name: string }).name = spec.name;
      return m;
    }
    mkdirLevels(this.pinRoot, `create map ${spec.name}: pin root`);
    const m = this.createFresh(spec);
    try {
      m.pin(path);
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  loadProgram(spec: ProgramSpec, opts: LoadProgramOptions): BackendProgram {
    return loadProgram(spec, opts, {
      btfFd: this.btfFd,
      btf: this.spec.btf,
      externs: {
        kernelBtf: vmlinuxBtf,
        kconfig: () => {
          if (!this.kconfig) {
            if (!this.spec.btf) throw new ArgumentError(`load ${this.spec.source}: kconfig externs need the object's BTF`);
            this.kconfig = KconfigMap.create(this.spec.btf, this.btfFd, this.spec.source);
          }
          return this.kconfig;
        },
      },
    });
  }

  close(): void {
    // Programs that use .kconfig hold their own kernel reference to it.
    this.kconfig?.close();
    this.kconfig = undefined;
    if (this.btfFd > 0) closeFd(this.btfFd);
    this.btfFd = 0;
  }
}

export class KernelBackend implements Backend {
  readonly kind = 'kernel' as const;
  readonly reason: string;
  private cpus: number | undefined;

  constructor(reason = 'kernel: addon loaded, bpf(2) works') {
    loadBinding();
    this.reason = reason;
  }

  get possibleCpus(): number {
    return (this.cpus ??= possibleCpus());
  }

  openSession(spec: ObjectSpec, opts?: LoadSessionOptions): KernelSession {
    return new KernelSession(spec, opts);
  }

  openPinnedMap(path: string): KernelMap {
    return KernelMap.openPinned(path);
  }

  openPinnedProgram(path: string): KernelProgram {
    return KernelProgram.openPinned(path);
  }

  openPinnedLink(path: string): BackendLink {
    return openPinnedLink(path);
  }

  ifindex(ifname: string): number {
    if (typeof ifname !== 'string' || ifname === '') throw new ArgumentError(`interface index: bad interface name ${JSON.stringify(ifname)}`);
    const r = sys().ifNameToIndex(ifname);
    if (r < 0) {
      throw syscallError(`interface index of ${ifname}`, 'if_nametoindex', -r, -r === Errno.ENODEV ? `no interface named ${ifname} (see \`ip link\`)` : undefined);
    }
    return r;
  }
}
