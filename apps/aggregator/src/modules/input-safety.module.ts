import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { NulInputMiddleware } from '../guards/nul-input.middleware.js';

/** Checks every HTTP request's input before any handler (see NulInputMiddleware). */
@Module({})
export class InputSafetyModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(NulInputMiddleware).forRoutes('*path');
  }
}
