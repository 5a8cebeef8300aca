import { IsString, Length, MaxLength } from 'class-validator';

export class CreateSessionRequest {
  @IsString()
  @Length(1, 30)
  username!: string;

  @IsString()
  @MaxLength(128)
  password!: string;
}
