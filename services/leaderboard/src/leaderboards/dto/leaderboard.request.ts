import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { DEFAULT_TOP } from '../leaderboards.service';

export class BoardParams {
  @Matches(/^[a-z0-9-]{1,32}$/, {
    message: 'board must be 1-32 lowercase letters, digits or dashes',
  })
  board!: string;
}

export class LeaderboardQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = DEFAULT_TOP;
}
