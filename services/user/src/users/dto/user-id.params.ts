import { Matches } from 'class-validator';

export class UserIdParams {
  @Matches(/^[1-9][0-9]{0,18}$/, { message: 'id must be a positive integer' })
  id!: string;
}
