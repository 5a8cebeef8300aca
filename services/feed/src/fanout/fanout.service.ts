import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { FanoutJob, FollowJob } from '@murmur/contracts';
import { FanoutRepository } from './fanout.repository';

export const TIMELINE_MAX = Symbol('TIMELINE_MAX');
export const FANOUT_ON_WRITE = Symbol('FANOUT_ON_WRITE');

/**
 * A new post goes into its author's own list (`feed:authored`) in every mode. With fan-out on
 * write it is also pushed into the author's and every follower's timeline; with it off, feeds are
 * merged at read time from those lists and nothing is pushed. The follow graph is kept in both
 * directions in both modes, so the mode can be switched without a rebuild.
 */
@Injectable()
export class FanoutService implements OnApplicationBootstrap {
  private readonly logger = new Logger(FanoutService.name);

  constructor(
    @Inject(FanoutRepository) private readonly repo: FanoutRepository,
    @Inject(TIMELINE_MAX) private readonly timelineMax: number,
    @Inject(FANOUT_ON_WRITE) private readonly fanoutOnWrite: boolean,
  ) {}

  onApplicationBootstrap(): void {
    this.logger.log(
      this.fanoutOnWrite
        ? 'feed mode: fan-out on write (FANOUT_ON_WRITE=true): new posts are pushed into every follower timeline'
        : 'feed mode: fan-in at read (FANOUT_ON_WRITE=false): new posts are written to their author list only',
    );
  }

  /** How many follower timelines received the post (0 with fan-out off). */
  async fanout(job: FanoutJob): Promise<number> {
    await this.repo.addAuthored(
      job.authorId,
      job.postId,
      job.createdAt,
      this.timelineMax,
      this.fanoutOnWrite,
    );
    if (!this.fanoutOnWrite) {
      return 0;
    }
    let delivered = 0;
    for await (const batch of this.repo.followers(job.authorId)) {
      await this.repo.pushToTimelines(batch, job.postId, job.createdAt, this.timelineMax);
      delivered += batch.length;
    }
    return delivered;
  }

  /**
   * Record the follow in both directions; with fan-out on, also backfill the followee's recent
   * posts into the follower's timeline (fan-in reads them from the followee's list anyway). An
   * event older than the last change applied to the pair does nothing.
   */
  follow(job: FollowJob): Promise<{ applied: boolean }> {
    return this.applyFollowChange('follow', job);
  }

  /** Remove the follow; with fan-out on, also the followee's posts from the follower's timeline. */
  unfollow(job: FollowJob): Promise<{ applied: boolean }> {
    return this.applyFollowChange('unfollow', job);
  }

  private async applyFollowChange(
    change: 'follow' | 'unfollow',
    job: FollowJob,
  ): Promise<{ applied: boolean }> {
    const { followeeId, followerId } = job;
    const applied = await this.repo.applyFollowChange(change, followeeId, followerId, job.version);
    if (applied && this.fanoutOnWrite) {
      await (change === 'follow'
        ? this.repo.backfill(followeeId, followerId, this.timelineMax)
        : this.repo.prune(followeeId, followerId));
    }
    return { applied };
  }
}
