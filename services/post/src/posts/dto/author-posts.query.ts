import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export const AUTHOR_PAGE_MAX = 50;

export class AuthorPostsQuery {
  @Matches(/^[1-9][0-9]{0,18}$/, { message: 'author must be a positive 64-bit integer' })
  author!: string;

  /** the `nextCursor` of the previous page: posts older than this id */
  @IsOptional()
  @Matches(/^[1-9][0-9]{0,18}$/, { message: 'before must be a post id' })
  before?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(AUTHOR_PAGE_MAX)
  limit?: number;
}
