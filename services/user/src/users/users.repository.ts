import { Inject, Injectable } from '@nestjs/common';
import { MAIN_CLUSTER, type ReplicatedCluster } from '@murmur/database';
import type { UserRow } from './user.entity';

export const USER_COLUMNS = `id::text AS id, username, email, password_hash, display_name, bio,
  follower_count, following_count, created_at, updated_at`;

export class UniqueViolation extends Error {
  constructor(readonly constraint: string) {
    super(`unique violation on ${constraint}`);
  }
}

function rethrowUnique(error: unknown): never {
  const e = error as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  const code = e.code ?? e.driverError?.code;
  if (code === '23505') {
    throw new UniqueViolation(e.constraint ?? e.driverError?.constraint ?? 'unknown');
  }
  throw error;
}

@Injectable()
export class UsersRepository {
  constructor(@Inject(MAIN_CLUSTER) private readonly db: ReplicatedCluster) {}

  async insert(user: { username: string; email: string; passwordHash: string }): Promise<UserRow> {
    try {
      const rows = await this.db.write((sql) =>
        sql.query<UserRow>(
          `INSERT INTO users (username, email, password_hash, display_name) VALUES ($1, $2, $3, $1) RETURNING ${USER_COLUMNS}`,
          [user.username, user.email, user.passwordHash],
        ),
      );
      return rows[0];
    } catch (error) {
      return rethrowUnique(error);
    }
  }

  /** On the primary: sign-up asks right before it inserts. */
  async usernameTaken(username: string): Promise<boolean> {
    const rows = await this.db.readPrimary((sql) =>
      sql.query<{ one: number }>(`SELECT 1 AS one FROM users WHERE lower(username) = lower($1)`, [
        username,
      ]),
    );
    return rows.length > 0;
  }

  /** Replica read (read-your-writes for the caller's own writes). */
  async findById(id: string): Promise<UserRow | undefined> {
    const rows = await this.db.read(
      (sql) => sql.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]),
      { missing: (r) => r.length === 0 },
    );
    return rows[0];
  }

  /** Credentials are checked against the primary: a just-registered user can log in at once. */
  async findByUsernameForLogin(username: string): Promise<UserRow | undefined> {
    const rows = await this.db.readPrimary((sql) =>
      sql.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(username) = lower($1)`, [
        username,
      ]),
    );
    return rows[0];
  }

  async updateProfile(
    id: string,
    patch: { displayName?: string; bio?: string },
  ): Promise<UserRow | undefined> {
    const rows = await this.db.write((sql) =>
      sql.query<UserRow>(
        `UPDATE users SET display_name = COALESCE($2, display_name), bio = COALESCE($3, bio),
           updated_at = greatest(now(), updated_at + interval '1 millisecond')
         WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        [id, patch.displayName ?? null, patch.bio ?? null],
      ),
    );
    return rows[0];
  }

  /** The `limit` most-followed users, most first, in batches (replica reads; for cache warming). */
  async *mostFollowed(limit: number, batchSize = 500): AsyncGenerator<UserRow[]> {
    for (let offset = 0; offset < limit; offset += batchSize) {
      const rows = await this.db.read((sql) =>
        sql.query<UserRow>(
          `SELECT ${USER_COLUMNS} FROM users ORDER BY users.follower_count DESC, users.id LIMIT $1 OFFSET $2`,
          [Math.min(batchSize, limit - offset), offset],
        ),
      );
      if (rows.length > 0) {
        yield rows;
      }
      if (rows.length < batchSize) {
        return;
      }
    }
  }

  /** Where the primary's WAL is now: a new session starts consistent with it. */
  async walPosition(): Promise<Record<string, string>> {
    return { [this.db.name]: await this.db.currentLsn() };
  }
}
