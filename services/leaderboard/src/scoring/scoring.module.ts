import { getQueueToken } from '@nestjs/bullmq';
import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { QUEUES } from '@murmur/contracts';
import { watchQueueDepth } from '@murmur/queue';
import type { Queue } from 'bullmq';
import { LeaderboardStoreModule } from '../leaderboards/leaderboard-store.module';
import { ScoreProcessor } from './score.processor';
import { ScoringService } from './scoring.service';

@Module({
  imports: [LeaderboardStoreModule],
  providers: [ScoreProcessor, ScoringService],
})
export class ScoringModule implements OnModuleInit, OnApplicationShutdown {
  private stopWatching?: () => void;

  constructor(@Inject(getQueueToken(QUEUES.leaderboard)) private readonly queue: Queue) {}

  onModuleInit(): void {
    this.stopWatching = watchQueueDepth([this.queue]);
  }

  onApplicationShutdown(): void {
    this.stopWatching?.();
  }
}
