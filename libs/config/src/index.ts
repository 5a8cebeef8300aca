/**
 * @murmur/config — typed configuration, validated once at boot with zod.
 * This is the only place in the code base that reads `process.env`; everything else receives
 * a typed config object. A bad variable fails the process at start with its name in the message.
 * Each entry point's schema is made of the parts it runs (`entryPointConfig`), so it requires
 * only what it uses.
 */
export * from './config-schemas';
export * from './entry-point-config';
export * from './ip-range';
export * from './load-config';
