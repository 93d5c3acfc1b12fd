import { Module } from '@nestjs/common';
import { HealthController } from '../controllers/health.controller.js';
import { HealthService } from '../services/health.service.js';
import { FederationModule } from './federation.module.js';

@Module({
  imports: [FederationModule],
  controllers: [HealthController],
  providers: [HealthService],
  exports: [HealthService],
})
export class HealthModule {}
