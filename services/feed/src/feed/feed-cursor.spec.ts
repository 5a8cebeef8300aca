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
    // 19 digits, but past 2^63−1: no such post can exist
    expect(
      decodeCursor(Buffer.from('1:9999999999999999999').toString('base64url')),
    ).toBeUndefined();
  });
});
