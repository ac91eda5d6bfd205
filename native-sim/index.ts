/**
 * The emulator backend (native-sim): load and run clang-built BPF programs in-process with the
 * kernel's semantics. `createEmulatorBackend()` is what lib/index.ts's registry calls;
 * `emulator` is the process's default emulator (the one `load(..., { backend: 'emulator' })`
 * uses), with simulated interfaces: `emulator.interface('eth0').receive(frame)`.
 */
import { defaultEmulatorBackend, type EmulatorBackend } from './backend.js';

export {
  EmulatorBackend, EmulatorLink, EmulatorProgram, EmulatorSession, createEmulatorBackend, defaultEmulatorBackend, probeEmulator,
} from './backend.js';
export type { EmulatorOptions } from './backend.js';
export { SimInterface, SimNet, formatMac, parseMac } from './net/interface.js';
export type { InterfaceOptions, ReceiveResult, Redirected } from './net/interface.js';
export { LINKTYPE_ETHERNET, readPcap, writePcap } from './net/pcap.js';
export type { PcapFile, PcapPacket } from './net/pcap.js';
export { XskSocket } from './net/xsk.js';
export { rawTracepointArgs, tracepointRecord } from './context/tracepoint.js';
export type { TracepointField } from './context/tracepoint.js';
export type { FibRoute, SimEnvOptions, SimMemoryBlock } from './helpers/env.js';

/** The process's default emulator. */
export const emulator: EmulatorBackend = defaultEmulatorBackend();
