import { followersKey, followingKey, graphVersionKey } from '@murmur/contracts';
import { testTopology } from '@murmur/testing';
import { Redis } from 'ioredis';
import { FanoutRepository } from './fanout.repository';

/** Against the test stack's real data Redis: versioned follow-graph changes. */
describe(`${FanoutRepository.name} follow-graph versions (real Redis)`, () => {
  const node = testTopology().redis.find((r) => r.purpose === 'queue');
  const redis = new Redis(node?.port ?? 0, '127.0.0.1');
  const sut = new FanoutRepository(redis);
  const base = 8_000_000_000 + (Date.now() % 1_000_000) * 1_000;
  const follower = String(base + 1);
  const followee = String(base + 2);
  const keys = [followersKey(followee), followingKey(follower), graphVersionKey(follower)];

  const edge = async (): Promise<[boolean, boolean]> => [
    (await redis.sismember(followersKey(followee), follower)) === 1,
    (await redis.sismember(followingKey(follower), followee)) === 1,
  ];

  afterAll(async () => {
    await redis.del(...keys);
    redis.disconnect();
  });

  it('never lets an older change overwrite a newer one, whatever order they arrive in', async () => {
    // follow (v9), then its unfollow (v10) delivered first: the follow arrives late and is stale.
    await expect(sut.applyFollowChange('unfollow', followee, follower, '10')).resolves.toBe(true);
    await expect(sut.applyFollowChange('follow', followee, follower, '9')).resolves.toBe(false);
    await expect(edge()).resolves.toEqual([false, false]);
    // A redelivery of the same version changes nothing either.
    await expect(sut.applyFollowChange('unfollow', followee, follower, '10')).resolves.toBe(false);
    // A newer follow applies ("11" > "10", and "100" > "99": compared as numbers, not text).
    await expect(sut.applyFollowChange('follow', followee, follower, '99')).resolves.toBe(true);
    await expect(edge()).resolves.toEqual([true, true]);
    await expect(sut.applyFollowChange('unfollow', followee, follower, '100')).resolves.toBe(true);
    await expect(edge()).resolves.toEqual([false, false]);
    await expect(redis.hget(graphVersionKey(follower), followee)).resolves.toBe('100');
  });

  it('applies an unversioned change (a job queued before versions) as it is', async () => {
    await expect(sut.applyFollowChange('follow', followee, follower, undefined)).resolves.toBe(
      true,
    );
    await expect(edge()).resolves.toEqual([true, true]);
  });
});
