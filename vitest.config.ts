import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const slow = process.env.CONCORD_SLOW === '1';

export default defineConfig({
  plugins: [
    // Nest's DI needs decorator metadata, which esbuild does not emit.
    swc.vite({
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      },
    }),
  ],
  resolve: {
    // Tests run against sources, so `npm test` never depends on a stale dist/.
    alias: [
      { find: /^@concord\/protocol$/, replacement: src('./libs/protocol/src/index.ts') },
      { find: /^@concord\/cli$/, replacement: src('./libs/cli/src/index.ts') },
      { find: /^@concord\/datasets$/, replacement: src('./libs/datasets/src/index.ts') },
      { find: /^@concord\/dp$/, replacement: src('./libs/dp/src/index.ts') },
      { find: /^@concord\/secagg$/, replacement: src('./libs/secagg/src/index.ts') },
      { find: /^@concord\/watermark$/, replacement: src('./libs/watermark/src/index.ts') },
      { find: /^@concord\/fedopt$/, replacement: src('./libs/fedopt/src/index.ts') },
      { find: /^@concord\/native$/, replacement: src('./native/lib/index.ts') },
      { find: /^@concord\/native\/audit$/, replacement: src('./native/lib/audit.ts') },
      { find: /^@concord\/native\/spec$/, replacement: src('./native/lib/spec.ts') },
      { find: /^@concord\/aggregator$/, replacement: src('./apps/aggregator/src/index.ts') },
      { find: /^@concord\/client-agent$/, replacement: src('./apps/client-agent/src/index.ts') },
    ],
  },
  test: {
    include: [
      'libs/*/test/**/*.test.ts',
      'native/test/**/*.test.ts',
      'apps/*/src/**/*.spec.ts',
      'apps/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**', ...(slow ? [] : ['**/*.slow.test.ts'])],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
