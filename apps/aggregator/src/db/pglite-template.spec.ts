import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ownedAndPrivate } from './pglite-template.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-template-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ownedAndPrivate (a cached PGlite template in the shared temp directory)', () => {
  it('uses a file only this user may write', () => {
    const file = join(dir, 'template.tar');
    writeFileSync(file, 'x');
    for (const [mode, ok] of [
      [0o600, true],
      [0o644, true],
      [0o664, false],
      [0o646, false],
      [0o666, false],
    ] as const) {
      chmodSync(file, mode);
      expect(ownedAndPrivate(file), mode.toString(8)).toBe(ok);
    }
  });
});
