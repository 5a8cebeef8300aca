import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type Cache, CacheFactory, warmCache } from '@murmur/cache';
import { ConsistencyContext } from '@murmur/database';
import { PasswordHasher } from './password-hasher';
import { type Profile, profileSchema, toProfile, type UserRow } from './user.entity';
import { UserError, UserErrorCode } from './users.errors';
import { UniqueViolation, UsersRepository } from './users.repository';

/** How long after a write a caller skips the in-process cache (longer than an invalidation takes). */
const L1_BYPASS_AFTER_WRITE_MS = 5_000;

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);
  private readonly profiles: Cache<Profile>;

  constructor(
    @Inject(UsersRepository) private readonly users: UsersRepository,
    @Inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @Inject(CacheFactory) private readonly caches: CacheFactory,
  ) {
    this.profiles = caches.create<Profile>({
      name: 'profile',
      ttlSeconds: 300,
      negativeTtlSeconds: 5,
      versionOf: (p) => p.version,
      schema: profileSchema,
    });
  }

  /**
   * Warm the profile cache with the most-followed users before serving: theirs are the profiles
   * every follower's client shows, so they would be the first misses after a deploy.
   */
  async onApplicationBootstrap(): Promise<void> {
    const limit = this.caches.warmKeys;
    if (limit === 0) {
      return;
    }
    const users = this.users;
    async function* batches(): AsyncGenerator<Array<[string, Profile]>> {
      for await (const rows of users.mostFollowed(limit)) {
        yield rows.map((row) => [String(row.id), toProfile(row)]);
      }
    }
    await warmCache(this.profiles, batches(), { expected: limit, logger: this.logger });
  }

  /**
   * Sign up. A taken username is a 409 (usernames are public: every post and profile shows
   * them), checked before the password is hashed so that a taken name costs no hash; the unique
   * index still decides a race. An email already on another account is accepted like a new one
   * (it is unique only once verified, and nothing here verifies): the answer must not tell
   * anyone which addresses have accounts.
   */
  async register(input: { username: string; email: string; password: string }): Promise<UserRow> {
    const taken = (): UserError =>
      new UserError(UserErrorCode.UsernameTaken, `The username "${input.username}" is taken.`);
    if (await this.users.usernameTaken(input.username)) {
      throw taken();
    }
    const passwordHash = await this.hasher.hash(input.password);
    try {
      const row = await this.users.insert({
        username: input.username,
        email: input.email.toLowerCase(),
        passwordHash,
      });
      // Write-through on create too: a "not found" cached by a reader racing replica lag is replaced.
      await this.profiles.set(String(row.id), toProfile(row));
      return row;
    } catch (error) {
      if (error instanceof UniqueViolation && error.constraint.includes('username')) {
        throw taken();
      }
      throw error;
    }
  }

  /**
   * Read-through the profile cache; a replica serves misses (the primary if the caller just wrote).
   * `fresh` skips the cache for this read (the owner sent `Cache-Control: no-cache`).
   */
  async getProfile(id: string, options: { fresh?: boolean } = {}): Promise<Profile> {
    const profile = await this.profiles.getOrSet(
      id,
      async () => {
        const row = await this.users.findById(id);
        return row ? toProfile(row) : null;
      },
      {
        bypassL1: ConsistencyContext.wroteWithin(L1_BYPASS_AFTER_WRITE_MS),
        refresh: options.fresh,
      },
    );
    if (!profile) {
      throw new UserError(UserErrorCode.NotFound, `No user with id ${id}.`);
    }
    return profile;
  }

  /** Write-through: update the primary, then replace the cached profile everywhere. */
  async updateProfile(id: string, patch: { displayName?: string; bio?: string }): Promise<Profile> {
    const row = await this.users.updateProfile(id, patch);
    if (!row) {
      throw new UserError(UserErrorCode.NotFound, `No user with id ${id}.`);
    }
    const profile = toProfile(row);
    await this.profiles.set(id, profile);
    return profile;
  }

  /**
   * Profiles changed by another feature (follow counts): write them through, never just delete.
   * A delete would let a reader refill the cache from a replica that has not replayed the change
   * yet, and the stale counts would then stay for the whole TTL; the versioned set cannot be
   * overwritten by such an older read.
   */
  async cacheProfiles(rows: UserRow[]): Promise<void> {
    await Promise.all(rows.map((row) => this.profiles.set(String(row.id), toProfile(row))));
  }
}
