import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseFederationSpecText, readYamlText } from '@concord/fedopt';
import { loadServerConfig } from '../config/load-config.js';
import { FederationsService } from './federations.service.js';

/** A document whose `refs` list uses `n` aliases of one anchor. */
const aliases = (n: number) => `base: &a {x: 1}\nrefs: [${Array.from({ length: n }, () => '*a').join(', ')}]\n`;
const duplicate = 'rounds: 3\nrounds: 4\n';

function restCreate(spec: string) {
  const service = new FederationsService(
    { get: vi.fn(), create: vi.fn(), setStatus: vi.fn(), listFederations: vi.fn() },
    { record: vi.fn() },
    { start: vi.fn() },
  );
  return service.create({ spec, start: false }, { keyId: 'k', role: 'operator' });
}

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'concord-yaml-')), 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('one YAML reader for the REST API, the CLI and the config file', () => {
  it('allows 15 aliases of an anchor and refuses 16 everywhere (stricter: the REST API allowed 99 before)', async () => {
    expect(readYamlText(aliases(15))).toMatchObject({ refs: expect.any(Array) });
    expect(() => readYamlText(aliases(16))).toThrow();
    await expect(restCreate(aliases(16))).rejects.toMatchObject({
      code: 'E_FEDERATION_SPEC',
      issues: [{ path: 'spec', message: 'not valid YAML or JSON' }],
    });
    expect(() => parseFederationSpecText(aliases(16))).toThrow(expect.objectContaining({ code: 'E_FEDERATION_SPEC' }));
    expect(() => loadServerConfig({ flags: {}, env: {}, file: configFile(aliases(16)) })).toThrow(/not valid YAML/);
  });

  it('refuses a duplicate key everywhere (never "last one wins")', async () => {
    expect(() => readYamlText(duplicate)).toThrow();
    await expect(restCreate(duplicate)).rejects.toMatchObject({ code: 'E_FEDERATION_SPEC' });
    expect(() => parseFederationSpecText(duplicate)).toThrow(expect.objectContaining({ code: 'E_FEDERATION_SPEC' }));
    expect(() => loadServerConfig({ flags: {}, env: {}, file: configFile('port: 1\nport: 2\n') })).toThrow(
      /not valid YAML/,
    );
  });
});
