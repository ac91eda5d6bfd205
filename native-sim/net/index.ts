export * from './interface.js';
export * from './pcap.js';
export * from './xsk.js';
