import { Matches } from 'class-validator';

export class PostIdParams {
  @Matches(/^[1-9][0-9]{0,18}$/, { message: 'id must be a positive 64-bit integer' })
  id!: string;
}
