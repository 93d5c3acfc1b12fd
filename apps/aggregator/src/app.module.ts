import { type DynamicModule, Module } from '@nestjs/common';
import { type ServerConfig } from './config/config.schema.js';
import { type Database } from './db/client.js';
import { CoreModule } from './modules/core.module.js';
import { HealthModule } from './modules/health.module.js';
import { InputSafetyModule } from './modules/input-safety.module.js';
import { FederationModule } from './modules/federation.module.js';
import { OperatorModule } from './modules/operator.module.js';

export interface AppModuleOptions {
  config: ServerConfig;
  /** the open, migrated database (see openMigratedDatabase); the app closes it on shutdown */
  database: Database;
}

/** The aggregator: each feature is a module in modules/, added here with one line. */
@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.register(options), InputSafetyModule, HealthModule, FederationModule, OperatorModule],
    };
  }
}
