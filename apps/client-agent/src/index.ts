export {};
export * from './runtime/context.js';
export * from './services/budget/budget-guard.js';
export * from './services/budget/memory-budget-guard.js';
export * from './runtime/agent-runtime.js';
export * from './transport/agent-transport.js';
