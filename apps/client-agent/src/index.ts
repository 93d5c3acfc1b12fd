export {};
export * from './runtime/context.js';
export * from './services/budget/budget-guard.js';
export * from './services/budget/memory-budget-guard.js';
export * from './runtime/agent-runtime.js';
export * from './transport/agent-transport.js';
export { splitValidation, type SplitData } from './data/validation-split.js';
export { countVector } from './runtime/evaluate-and-encode.js';
