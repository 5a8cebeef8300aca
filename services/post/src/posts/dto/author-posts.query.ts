import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsInt8Id } from '@murmur/http';

export const AUTHOR_PAGE_MAX = 50;

export class AuthorPostsQuery {
  @IsInt8Id({ message: 'author must be a positive 64-bit integer' })
  author!: string;

  /** the `nextCursor` of the previous page: posts older than this id */
  @IsOptional()
  @IsInt8Id({ message: 'before must be a post id' })
  before?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(AUTHOR_PAGE_MAX)
  limit?: number;
}
