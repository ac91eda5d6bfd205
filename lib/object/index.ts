/** The object model: BpfObject, BpfMap, Program, Link over an injected Backend; codecs; registry. */
export { BpfObject, load, loadOn, openObject, type LoadOptions } from './object.js';
export { BpfMap, type BpfMapOptions, type EventReaderOptions, type UpdateFlags } from './map.js';
export { Program, type ProgramRunOptions, type SocketLike } from './program.js';
export { Link } from './link.js';
export { EventReader } from './events.js';
export { codecFor, codecByName, perCpuCodec, bytesCodec, uintCodec, encode, decode, type Codec } from './codec.js';
export {
  registerBackend, registeredBackends, resolveBackend, resetBackends,
  type BackendFactory, type BackendOption, type BackendProbe,
} from './registry.js';
