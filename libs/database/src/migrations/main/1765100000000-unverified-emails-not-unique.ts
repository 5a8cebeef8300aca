import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An email is unique only once its owner has verified it (issue 15, API2: account enumeration).
 * A unique index on every email made sign-up answer "that email is already registered" to
 * anyone who asked, so any address could be checked for an account. Emails are unverified
 * contact data here (Murmur sends no mail and logs in by username), so two accounts may name
 * the same address until one verifies it; a verification flow sets `email_verified_at`, and the
 * partial index then keeps verified addresses unique.
 */
export class UnverifiedEmailsNotUnique1765100000000 implements MigrationInterface {
  name = 'UnverifiedEmailsNotUnique1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN email_verified_at timestamptz`);
    await q.query(`DROP INDEX users_email_lower`);
    await q.query(
      `CREATE UNIQUE INDEX users_verified_email_lower ON users (lower(email)) WHERE email_verified_at IS NOT NULL`,
    );
  }

  /** Fails while two accounts share an email: decide which keeps it first. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX users_verified_email_lower`);
    await q.query(`CREATE UNIQUE INDEX users_email_lower ON users (lower(email))`);
    await q.query(`ALTER TABLE users DROP COLUMN email_verified_at`);
  }
}
