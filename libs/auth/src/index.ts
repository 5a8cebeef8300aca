/**
 * @murmur/auth — sessions and the guard every service uses. Sessions are opaque random tokens;
 * Redis stores only their SHA-256, so a leaked Redis dump holds no usable token. The guard reads
 * the session from Redis directly (no call to the user service per request) and opens the
 * caller's read-your-writes context.
 */
export * from './session-store';
export * from './session-cache';
export * from './credentials';
export * from './auth.guard';
export * from './current-user.decorator';
export * from './auth.module';
