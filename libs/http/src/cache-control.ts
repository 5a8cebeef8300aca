/** `Cache-Control: no-cache` (or `max-age=0`) on a request asks for a read from the database. */
export function wantsFresh(header: string | undefined): boolean {
  return (
    typeof header === 'string' &&
    header.length <= 200 &&
    /(^|,)\s*(no-cache|max-age=0)\s*(,|$)/i.test(header)
  );
}
