/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it), for a test's process. */
export { freePort } from '@murmur/stack';
