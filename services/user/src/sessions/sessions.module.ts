import { type DynamicModule, Module } from '@nestjs/common';
import type { UserConfig } from '../config';
import { COOKIE_SECURE, SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({})
export class SessionsModule {
  static forRoot(config: UserConfig): DynamicModule {
    return {
      module: SessionsModule,
      controllers: [SessionsController],
      providers: [SessionsService, { provide: COOKIE_SECURE, useValue: config.COOKIE_SECURE }],
    };
  }
}
