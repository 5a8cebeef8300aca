import { Module } from '@nestjs/common';
import { LeaderboardStoreModule } from './leaderboard-store.module';
import { LeaderboardsController } from './leaderboards.controller';
import { LeaderboardsService } from './leaderboards.service';

@Module({
  imports: [LeaderboardStoreModule],
  controllers: [LeaderboardsController],
  providers: [LeaderboardsService],
})
export class LeaderboardsModule {}
