import { Body, Controller, HttpCode, HttpException, Inject, Post, UseGuards } from '@nestjs/common';
import type { EnrollResponse } from '@concord/protocol';
import { EnrollThrottleGuard } from '../guards/enroll-throttle.guard.js';
import { EnrollmentError, EnrollmentService } from '../services/enrollment.service.js';

/** POST /api/enroll: a site registers its public keys with a one-time token and learns the key to pin. */
@Controller('api')
export class EnrollmentController {
  constructor(@Inject(EnrollmentService) private readonly enrollment: EnrollmentService) {}

  @Post('enroll')
  @HttpCode(201)
  @UseGuards(EnrollThrottleGuard)
  async enroll(@Body() body: unknown): Promise<EnrollResponse> {
    try {
      return await this.enrollment.enroll(body);
    } catch (error) {
      if (error instanceof EnrollmentError) {
        throw new HttpException({ code: error.code, message: error.message }, error.status);
      }
      throw error;
    }
  }
}
