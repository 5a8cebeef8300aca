import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { FEED_JOBS, type FollowJob, QUEUES } from '@murmur/contracts';
import { withDeadline } from '@murmur/errors';
import { ENQUEUE_DEADLINE_MS } from '@murmur/queue';
import type { Queue } from 'bullmq';
import { UserError, UserErrorCode } from '../users/users.errors';
import { UsersService } from '../users/users.service';
import { FollowsRepository } from './follows.repository';

@Injectable()
export class FollowsService {
  constructor(
    @Inject(FollowsRepository) private readonly follows: FollowsRepository,
    @Inject(UsersService) private readonly users: UsersService,
    @InjectQueue(QUEUES.feed) private readonly feedQueue: Queue<FollowJob>,
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
    // Always tell the feed, even when nothing changed here: a retried request after a lost
    // enqueue must still reach the feed's copy of the graph. The feed's handling is idempotent.
    await withDeadline(
      this.feedQueue.add(action === 'follow' ? FEED_JOBS.follow : FEED_JOBS.unfollow, {
        followerId,
        followeeId,
      }),
      ENQUEUE_DEADLINE_MS,
      'The job queue',
    );
    if (result.changed) {
      await this.users.cacheProfiles(result.rows);
    }
  }
}
