import type { FanoutJob } from '@murmur/contracts';
import type { FanoutRepository } from './fanout.repository';
import { FanoutService } from './fanout.service';

type Calls = Array<[string, ...unknown[]]>;

class FakeFanoutRepository implements Pick<
  FanoutRepository,
  'addAuthored' | 'pushToTimelines' | 'followers'
> {
  readonly calls: Calls = [];

  constructor(private readonly followerBatches: string[][]) {}

  addAuthored(...args: [string, string, number, number, boolean]): Promise<void> {
    this.calls.push(['addAuthored', ...args]);
    return Promise.resolve();
  }

  pushToTimelines(...args: [string[], string, number, number]): Promise<void> {
    this.calls.push(['pushToTimelines', ...args]);
    return Promise.resolve();
  }

  async *followers(): AsyncGenerator<string[]> {
    this.calls.push(['followers']);
    for (const batch of this.followerBatches) {
      yield await Promise.resolve(batch);
    }
  }
}

const job: FanoutJob = { postId: '900', authorId: '1', createdAt: 1_800_000_000_000 };

describe(FanoutService.name, () => {
  it('with fan-out on write, records the post for its author and pushes it to every follower', async () => {
    const repo = new FakeFanoutRepository([['2', '3'], ['4']]);
    const sut = new FanoutService(repo as unknown as FanoutRepository, 800, true);
    await expect(sut.fanout(job)).resolves.toBe(3);
    expect(repo.calls).toEqual([
      ['addAuthored', '1', '900', job.createdAt, 800, true],
      ['followers'],
      ['pushToTimelines', ['2', '3'], '900', job.createdAt, 800],
      ['pushToTimelines', ['4'], '900', job.createdAt, 800],
    ]);
  });

  it('with fan-out off, only records the post in its author list and reaches no follower', async () => {
    const repo = new FakeFanoutRepository([['2', '3']]);
    const sut = new FanoutService(repo as unknown as FanoutRepository, 800, false);
    await expect(sut.fanout(job)).resolves.toBe(0);
    expect(repo.calls).toEqual([['addAuthored', '1', '900', job.createdAt, 800, false]]);
  });
});
