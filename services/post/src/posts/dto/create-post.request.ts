import { IsString, Length, Matches } from 'class-validator';

export class CreatePostRequest {
  @IsString()
  @Length(1, 500, { message: 'text must be 1-500 characters' })
  @Matches(/\S/, { message: 'text must not be blank' })
  text!: string;
}
