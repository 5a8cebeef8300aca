import { Inject, Injectable } from '@nestjs/common';
import type { FanoutJob, FollowJob } from '@murmur/contracts';
import { FanoutRepository } from './fanout.repository';

export const TIMELINE_MAX = Symbol('TIMELINE_MAX');

/** Fan-out on write: a new post is pushed into the author's and every follower's timeline. */
@Injectable()
export class FanoutService {
  constructor(
    @Inject(FanoutRepository) private readonly repo: FanoutRepository,
    @Inject(TIMELINE_MAX) private readonly timelineMax: number,
  ) {}

  async fanout(job: FanoutJob): Promise<number> {
    let delivered = 0;
    await this.repo.pushToTimelines([job.authorId], job.postId, job.createdAt, this.timelineMax);
    for await (const batch of this.repo.followers(job.authorId)) {
      await this.repo.pushToTimelines(batch, job.postId, job.createdAt, this.timelineMax);
      delivered += batch.length;
    }
    return delivered;
  }

  follow(job: FollowJob): Promise<void> {
    return this.repo.addFollower(job.followeeId, job.followerId);
  }

  unfollow(job: FollowJob): Promise<void> {
    return this.repo.removeFollower(job.followeeId, job.followerId);
  }
}
