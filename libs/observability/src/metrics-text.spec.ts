import { sumSamples } from './metrics-text';

const text = [
  '# HELP murmur_queue_depth Jobs',
  'murmur_queue_depth{queue="feed",state="waiting"} 3',
  'murmur_queue_depth{queue="feed",state="active"} 2',
  'murmur_queue_depth{queue="feed",state="failed"} 7',
  'murmur_queue_depth_other{state="waiting"} 100',
  'murmur_likes_pending_posts 4',
].join('\n');

describe(sumSamples.name, () => {
  it('sums the samples of one metric whose labels match, and nothing with a longer name', () => {
    expect(sumSamples(text, 'murmur_queue_depth')).toBe(12);
    expect(sumSamples(text, 'murmur_queue_depth', { state: 'waiting' })).toBe(3);
    expect(sumSamples(text, 'murmur_queue_depth', { state: ['waiting', 'active'] })).toBe(5);
    expect(sumSamples(text, 'murmur_likes_pending_posts')).toBe(4);
    expect(sumSamples(text, 'murmur_missing')).toBe(0);
  });
});
