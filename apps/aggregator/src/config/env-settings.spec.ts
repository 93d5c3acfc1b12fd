import { describe, expect, it } from 'vitest';
import { loadServerConfig } from './load-config.js';

describe('settings once read from process.env, now through the config schema', () => {
  it('CONCORD_NO_AUTORUN is the noAutorun setting (default off)', () => {
    expect(loadServerConfig({ flags: {}, env: {} }).noAutorun).toBe(false);
    expect(loadServerConfig({ flags: {}, env: { CONCORD_NO_AUTORUN: '1' } }).noAutorun).toBe(true);
    expect(loadServerConfig({ flags: {}, env: { CONCORD_NO_AUTORUN: '0' } }).noAutorun).toBe(false);
    expect(() => loadServerConfig({ flags: {}, env: { CONCORD_NO_AUTORUN: 'yes' } })).toThrow(/noAutorun/);
  });

  it('CONCORD_RATE_LIMIT_PER_MINUTE is rateLimitPerMinute (default 60); a bad value is refused, not replaced', () => {
    expect(loadServerConfig({ flags: {}, env: {} }).rateLimitPerMinute).toBe(60);
    expect(loadServerConfig({ flags: {}, env: { CONCORD_RATE_LIMIT_PER_MINUTE: '3' } }).rateLimitPerMinute).toBe(3);
    // before: Math.max(1, Number(v) || 60) turned 'abc' into 60 and '0' into 60, silently
    for (const bad of ['abc', '0', '-5', '1.5']) {
      expect(() => loadServerConfig({ flags: {}, env: { CONCORD_RATE_LIMIT_PER_MINUTE: bad } })).toThrow(
        /rateLimitPerMinute/,
      );
    }
  });
});
