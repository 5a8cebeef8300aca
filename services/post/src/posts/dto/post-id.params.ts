import { IsInt8Id } from '@murmur/http';

export class PostIdParams {
  @IsInt8Id({ message: 'id must be a positive 64-bit integer' })
  id!: string;
}
