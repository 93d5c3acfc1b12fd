import { describe, expect, it, vi } from 'vitest';
import type { Federation } from '../db/schema/federations.js';
import { CreateFederationBodySchema, IdSchema, IssueTokenBodySchema } from '../dtos/operator.dto.js';
import { ZodPipe } from '../pipes/zod.pipe.js';
import { FederationsService } from './federations.service.js';
import { TokensService } from './tokens.service.js';

const FEDERATION_ID = '11111111-1111-4111-8111-111111111111';
const actor = { keyId: 'key-1', role: 'operator' as const };

function services(status: Federation['status'] = 'active') {
  let current = status;
  const federation = () => ({ id: FEDERATION_ID, name: 'f', status: current, spec: {} }) as unknown as Federation;
  const repository = {
    get: vi.fn(async (id: string) => (id === FEDERATION_ID ? federation() : undefined)),
    setStatus: vi.fn(async (_id: string, next: Federation['status']) => {
      current = next;
    }),
    create: vi.fn(async (input: { name: string; status: Federation['status'] }) => ({ ...federation(), ...input })),
    listFederations: vi.fn(),
  };
  const auditLog = { record: vi.fn(async () => {}) };
  const runner = { start: vi.fn(async () => ({}) as never) };
  const enrollment = { issueToken: vi.fn(async () => ({ token: 'SECRET-TOKEN', expiresAt: new Date(0) })) };
  const federations = new FederationsService(repository, auditLog, runner);
  const tokens = new TokensService(federations, enrollment, { listTokens: vi.fn(), revokeToken: vi.fn() }, auditLog);
  return { federations, tokens, auditLog, runner, enrollment };
}

describe('FederationsService and the zod pipe at the edge', () => {
  it('refuses malformed ids and specs with coded 400s naming the field', async () => {
    const { federations } = services();
    expect(() => new ZodPipe(IdSchema, 'federationId').transform('not-a-uuid')).toThrow(
      expect.objectContaining({ code: 'E_BAD_REQUEST', status: 400 }),
    );
    const body = new ZodPipe(CreateFederationBodySchema, 'body');
    await expect(federations.create(body.transform({ spec: 'a: [unclosed' }), actor)).rejects.toMatchObject({
      code: 'E_FEDERATION_SPEC',
      issues: [{ path: 'spec', message: 'not valid YAML or JSON' }],
    });
    expect(() => body.transform({ spec: {}, extra: 1 })).toThrow(expect.objectContaining({ code: 'E_BAD_REQUEST' }));
    await expect(federations.create(body.transform({ spec: { rounds: -1 } }), actor)).rejects.toMatchObject({
      code: 'E_FEDERATION_SPEC',
    });
    await expect(federations.get('22222222-2222-4222-8222-222222222222')).rejects.toMatchObject({
      code: 'E_NOT_FOUND',
      status: 404,
    });
  });

  it('pauses an active federation, resumes it (restarting its rounds), refuses a wrong transition', async () => {
    const { federations, runner, auditLog } = services('active');
    expect((await federations.change(FEDERATION_ID, 'pause', actor)).status).toBe('paused');
    await expect(federations.change(FEDERATION_ID, 'pause', actor)).rejects.toMatchObject({ code: 'E_CONFLICT' });
    expect((await federations.change(FEDERATION_ID, 'resume', actor)).status).toBe('active');
    expect(runner.start).toHaveBeenCalledWith(FEDERATION_ID);
    expect(auditLog.record).toHaveBeenCalledWith(
      expect.objectContaining({ action: 'federation.pause', apiKeyId: 'key-1', actorRole: 'operator' }),
    );
  });

  it('returns an issued token once and never puts it in the audit log', async () => {
    const { tokens, enrollment, auditLog } = services();
    const issued = await tokens.issue(FEDERATION_ID, { ttlMinutes: 5 }, actor);
    expect(issued.token).toBe('SECRET-TOKEN');
    expect(enrollment.issueToken).toHaveBeenCalledWith(FEDERATION_ID, 5 * 60_000);
    expect(JSON.stringify(auditLog.record.mock.calls)).not.toContain('SECRET-TOKEN');
    const pipe = new ZodPipe(IssueTokenBodySchema, 'body', {});
    expect(() => pipe.transform({ ttlMinutes: 0 })).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ path: 'body.ttlMinutes' })] }),
    );
    expect(pipe.transform(undefined)).toEqual({ ttlMinutes: 24 * 60 });
  });
});
