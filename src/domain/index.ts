export * from './assert.js';
export * from './endpoint.js';
export * from './errors.js';
export * from './issue.js';
export * from './probe.js';
export * from './protocol.js';
export * from './suggest.js';
export * from './job.js';
