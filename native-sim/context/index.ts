export * from './errors.js';
export * from './packet.js';
export * from './skb.js';
export * from './tracepoint.js';
export * from './xdp.js';
