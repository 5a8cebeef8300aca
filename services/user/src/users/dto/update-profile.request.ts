import { IsOptional, IsString, MaxLength } from 'class-validator';

export class UpdateProfileRequest {
  @IsOptional()
  @IsString()
  @MaxLength(50)
  displayName?: string;

  @IsOptional()
  @IsString()
  @MaxLength(280)
  bio?: string;
}
