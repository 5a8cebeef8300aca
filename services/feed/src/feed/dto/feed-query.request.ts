import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export class FeedQueryRequest {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  /** opaque, from a previous page's `nextCursor` */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{4,64}$/, { message: 'cursor is not valid' })
  cursor?: string;
}
