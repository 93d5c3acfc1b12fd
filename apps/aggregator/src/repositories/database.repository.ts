import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type Database, type DatabaseDriver } from '../db/client.js';
import { DATABASE } from './tokens.js';

export interface StorageStatus {
  driver: DatabaseDriver;
  reachable: boolean;
  migrationsApplied: boolean;
}

/** The one owner of the open database; every other repository gets `db` from here. */
@Injectable()
export class DatabaseRepository implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  get db(): Database['db'] {
    return this.database.db;
  }

  get driver(): DatabaseDriver {
    return this.database.driver;
  }

  /** True when the database answers `SELECT 1` now. */
  ping(): Promise<boolean> {
    return this.database.ping().catch(() => false);
  }

  async status(): Promise<StorageStatus> {
    const reachable = await this.database.ping().catch(() => false);
    const migrationsApplied = reachable ? await this.database.migrationsApplied().catch(() => false) : false;
    return { driver: this.database.driver, reachable, migrationsApplied };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
