import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerException, ThrottlerStorage } from '@nestjs/throttler';
import type { Request } from 'express';
import type { ServerConfig } from '../config/config.schema.js';
import { SERVER_CONFIG } from '../repositories/tokens.js';

const MINUTE_MS = 60_000;

/**
 * POST /api/enroll is unauthenticated and every attempt is a token lookup: at most config enrollPerMinutePerIp
 * attempts per minute per client address (429 E_RATE_LIMITED), counted in @nestjs/throttler's storage.
 */
@Injectable()
export class EnrollThrottleGuard implements CanActivate {
  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const limit = this.config.enrollPerMinutePerIp;
    const key = `enroll:${request.socket.remoteAddress ?? 'unknown'}`;
    const record = await this.storage.increment(key, MINUTE_MS, limit, MINUTE_MS, 'enroll');
    if (record.isBlocked) throw new ThrottlerException('too many enrollment attempts; retry in a minute');
    return true;
  }
}
