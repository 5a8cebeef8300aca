/**
 * @murmur/config — typed configuration, validated once at boot with zod.
 * This is the only place in the code base that reads `process.env`; everything else receives
 * a typed config object. A bad variable fails the process at start with its name in the message.
 */
export * from './config-schemas';
export * from './load-config';
