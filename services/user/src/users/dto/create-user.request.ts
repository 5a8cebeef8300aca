import { IsEmail, IsString, Length, Matches, MaxLength } from 'class-validator';

export class CreateUserRequest {
  @IsString()
  @Matches(/^[A-Za-z0-9_]{3,30}$/, {
    message: 'username must be 3-30 letters, digits or underscores',
  })
  username!: string;

  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string;

  // The upper bound keeps argon2 from being fed megabytes.
  @IsString()
  @Length(8, 128, { message: 'password must be 8-128 characters' })
  password!: string;
}
