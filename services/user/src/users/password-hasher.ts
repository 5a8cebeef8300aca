import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import * as argon2 from 'argon2';

export interface PasswordHasherOptions {
  memoryKiB: number;
  timeCost: number;
}

export const PASSWORD_HASHER_OPTIONS = Symbol('PASSWORD_HASHER_OPTIONS');

/** argon2id; an adapter so unit tests of services need no real hashing. */
@Injectable()
export class PasswordHasher implements OnApplicationBootstrap {
  // Verifying against this when the user does not exist keeps the timing of "no such user" and
  // "wrong password" alike, so login does not reveal which usernames exist.
  private dummy?: Promise<string>;

  constructor(@Inject(PASSWORD_HASHER_OPTIONS) private readonly options: PasswordHasherOptions) {}

  /**
   * Hash once before serving: the first argon2 call of a process loads the native module and
   * sizes its memory, and made the first sign-up or log-in after a start several times slower
   * than the rest. It also computes the dummy now, so the first "no such user" is not slower than
   * every later one (which would tell which usernames exist).
   */
  async onApplicationBootstrap(): Promise<void> {
    this.dummy ??= this.hash('not-a-real-password');
    await this.dummy;
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.options.memoryKiB,
      timeCost: this.options.timeCost,
      parallelism: 1,
    });
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    if (hash === undefined) {
      this.dummy ??= this.hash('not-a-real-password');
      await argon2.verify(await this.dummy, password).catch(() => false);
      return false;
    }
    return argon2.verify(hash, password).catch(() => false);
  }
}
