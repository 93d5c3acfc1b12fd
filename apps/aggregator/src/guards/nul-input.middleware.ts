import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { findNul, urlHasNul } from './nul-input.js';

/**
 * Refuses, before any handler, a request whose URL, query or JSON body holds a NUL (PostgreSQL cannot store one):
 * 400 E_NUL_IN_INPUT instead of a database error.
 */
@Injectable()
export class NulInputMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const found = urlHasNul(req.originalUrl) ? 'nul' : findNul([req.query, req.body as unknown]);
    if (!found) return next();
    const message =
      found === 'nul'
        ? 'a NUL character (U+0000) is not allowed in any input'
        : 'the request holds too many values to check';
    const status = found === 'nul' ? 400 : 413;
    res.status(status).json({ statusCode: status, code: found === 'nul' ? 'E_NUL_IN_INPUT' : 'E_TOO_LARGE', message });
  }
}
