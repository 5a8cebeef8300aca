import { QUEUES } from '@murmur/contracts';
import { defineService } from '@murmur/http';
import { userApiConfig } from './config';
import { FollowsModule } from './follows/follows.module';
import { SessionsModule } from './sessions/sessions.module';
import { UsersModule } from './users/users.module';

/** The outbox relay publishes follow events to the feed queue. */
export const apiModule = defineService(userApiConfig, (config) => {
  // One users module, imported by sessions and follows too (Nest keeps one instance per object).
  const users = UsersModule.forRoot(config);
  return {
    queues: [QUEUES.feed],
    features: [users, SessionsModule.forRoot(config, users), FollowsModule.forRoot(users)],
  };
});
