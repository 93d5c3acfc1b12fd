import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { type HealthReport, HealthService } from '../services/health.service.js';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** 200 `{status: 'ok'}`, or 503 `{status: 'degraded', reasons}` (database unreachable, a round loop not running). */
  @Get()
  async check(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    const report = await this.health.check();
    res.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}
