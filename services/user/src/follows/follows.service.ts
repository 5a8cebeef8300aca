import { Inject, Injectable } from '@nestjs/common';
import { OUTBOX_RELAY, type OutboxRelay } from '@murmur/queue';
import { UserError, UserErrorCode } from '../users/users.errors';
import { UsersService } from '../users/users.service';
import { FollowsRepository } from './follows.repository';

@Injectable()
export class FollowsService {
  constructor(
    @Inject(FollowsRepository) private readonly follows: FollowsRepository,
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(OUTBOX_RELAY) private readonly outbox: Pick<OutboxRelay, 'publish'>,
  ) {}

  async follow(followerId: string, followeeId: string): Promise<void> {
    await this.change(followerId, followeeId, 'follow');
  }

  async unfollow(followerId: string, followeeId: string): Promise<void> {
    await this.change(followerId, followeeId, 'unfollow');
  }

  private async change(
    followerId: string,
    followeeId: string,
    action: 'follow' | 'unfollow',
  ): Promise<void> {
    if (followerId === followeeId) {
      throw new UserError(UserErrorCode.CannotFollowSelf, 'You cannot follow yourself.');
    }
    const result =
      action === 'follow'
        ? await this.follows.follow(followerId, followeeId)
        : await this.follows.unfollow(followerId, followeeId);
    if (result === undefined) {
      throw new UserError(UserErrorCode.NotFound, `No user with id ${followeeId}.`);
    }
    if (result.changed) {
      // The feed hears of it through the outbox (the event committed with the edge).
      await this.outbox.publish(result.events);
      await this.users.cacheProfiles(result.rows);
    }
  }
}
