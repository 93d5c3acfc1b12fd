import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { BaseWsExceptionFilter } from '@nestjs/websockets';
import { ThrottlerException } from '@nestjs/throttler';
import type { Response } from 'express';
import { mapDatabaseError } from '../db/db-errors.js';
import { appLogger } from '../repositories/logger.repository.js';
import { OperatorError } from '../services/operator-error.js';

/**
 * Registered app-wide (APP_FILTER), so body-parser refusals (malformed JSON, too large) are coded too.
 * Every error of the dashboard API as `{ statusCode, code, message, issues? }`. Coded refusals keep their status;
 * Nest's own HTTP errors get a code from their status; anything else is a 500 E_INTERNAL with no detail (the
 * message could name internals), logged with its stack (never the request body).
 */
@Catch()
export class OperatorExceptionFilter implements ExceptionFilter {
  private readonly ws = new BaseWsExceptionFilter();

  catch(error: unknown, host: ArgumentsHost): void {
    // Registered app-wide, it also sees the agents' gateway: leave socket errors to Nest's default handling.
    if (host.getType() !== 'http') return this.ws.catch(error, host);
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof OperatorError) {
      response.status(error.status).json({
        statusCode: error.status,
        code: error.code,
        message: error.message,
        ...(error.issues ? { issues: error.issues } : {}),
      });
      return;
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const body = error.getResponse();
      const own = typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
      const code =
        typeof own === 'string' ? own : error instanceof ThrottlerException ? 'E_RATE_LIMITED' : codeOfStatus(status);
      response.status(status).json({ statusCode: status, code, message: messageOf(error) });
      return;
    }
    // a database refusal (NUL, bad value, duplicate) or loss: coded, and never its text (drizzle's names the SQL)
    const db = mapDatabaseError(error);
    if (db) {
      if (db.status >= 500) appLogger().warn({ code: db.code }, 'database unavailable for a dashboard API request');
      response.status(db.status).json({ statusCode: db.status, code: db.code, message: db.message });
      return;
    }
    appLogger().error({ err: error }, 'unhandled error in the dashboard API');
    response.status(500).json({ statusCode: 500, code: 'E_INTERNAL', message: 'internal error' });
  }
}

function codeOfStatus(status: number): string {
  if (status === 400) return 'E_BAD_REQUEST';
  if (status === 401) return 'E_UNAUTHENTICATED';
  if (status === 403) return 'E_FORBIDDEN';
  if (status === 404) return 'E_NOT_FOUND';
  if (status === 413) return 'E_TOO_LARGE';
  if (status === 429) return 'E_RATE_LIMITED';
  return status >= 500 ? 'E_INTERNAL' : 'E_HTTP';
}

function messageOf(error: HttpException): string {
  const body = error.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : error.message;
}
