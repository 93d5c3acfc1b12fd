export {};
export * from './concord-error.js';
export * from './secagg/index.js';
export * from './receipt.js';
export * from './keys.js';
export * from './events/index.js';
export * from './federation-spec.js';
export * from './events/collusion.js';
export * from './events/privacy-terms.js';
