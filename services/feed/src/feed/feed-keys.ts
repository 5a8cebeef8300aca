/**
 * The feed's keys in the data Redis. Written by the feed worker (and the seeder and the rebuild),
 * read by the feed API. `feed:following:*` and `feed:authored:*` are kept in both modes, so
 * switching `FANOUT_ON_WRITE` needs no rebuild. Defined in the contracts lib, which the seeder
 * and the rebuild share.
 */
export {
  authoredKey,
  followersKey,
  followingKey,
  graphVersionKey,
  timelineKey,
} from '@murmur/contracts';
