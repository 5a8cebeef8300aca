import { decodeCursor, encodeCursor } from './feed-cursor';

describe('feed cursors', () => {
  it('round-trip a timeline position', () => {
    const entry = { score: 1_795_000_000_123, postId: '123456789012345678' };
    expect(decodeCursor(encodeCursor(entry))).toEqual(entry);
  });

  it('reject tampered or foreign cursors', () => {
    expect(decodeCursor(Buffer.from('1:0').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(Buffer.from('abc:1').toString('base64url'))).toBeUndefined();
    expect(decodeCursor('!!!!')).toBeUndefined();
  });
});
