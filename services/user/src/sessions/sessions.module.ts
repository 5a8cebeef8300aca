import { type DynamicModule, Module } from '@nestjs/common';
import type { UserApiConfig } from '../config';
import { COOKIE_SECURE, SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({ controllers: [SessionsController], providers: [SessionsService] })
export class SessionsModule {
  /** `users`: the app's users module (its repository and hasher check credentials). */
  static forRoot(
    config: Pick<UserApiConfig, 'COOKIE_SECURE'>,
    users: DynamicModule,
  ): DynamicModule {
    return {
      module: SessionsModule,
      imports: [users],
      providers: [{ provide: COOKIE_SECURE, useValue: config.COOKIE_SECURE }],
    };
  }
}
