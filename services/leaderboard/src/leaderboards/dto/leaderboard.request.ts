import { type BoardWindow, WINDOWS } from '@murmur/contracts';
import { IsInt8Id } from '@murmur/http';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { DEFAULT_SPAN, MAX_SPAN } from '../ranked-entry';
import { DEFAULT_TOP } from '../leaderboards.service';

export class BoardParams {
  @Matches(/^[a-z0-9-]{1,32}$/, {
    message: 'board must be 1-32 lowercase letters, digits or dashes',
  })
  board!: string;
}

/** What every board read may say: the window (all-time unless told) and a past period of it. */
export class WindowQuery {
  @IsOptional()
  @IsIn(WINDOWS, { message: `window must be one of ${WINDOWS.join(', ')}` })
  window: BoardWindow = 'all';

  /** a period of the window (`2026-12-03` daily, `2026-W49` weekly); the current one if absent */
  @IsOptional()
  @Matches(/^(\d{4}-\d{2}-\d{2}|\d{4}-W\d{2}|all)$/, {
    message: 'period must look like 2026-12-03 (daily), 2026-W49 (weekly) or all',
  })
  period?: string;
}

export class LeaderboardQuery extends WindowQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = DEFAULT_TOP;

  /** a member (a user id, or a post id on a post board): answer its place and neighbours */
  @IsOptional()
  @IsInt8Id({ message: 'around must be a positive 64-bit integer' })
  around?: string;

  /** neighbours each side of `around` */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_SPAN)
  span: number = DEFAULT_SPAN;
}

export class MyRankQuery extends WindowQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_SPAN)
  span: number = DEFAULT_SPAN;
}
