/**
 * Sum the samples of one metric in a Prometheus text exposition (what `/metrics` answers), keeping
 * the samples whose labels match: a value, or one of several values, per label name.
 */
export function sumSamples(
  text: string,
  metric: string,
  labels: Record<string, string | readonly string[]> = {},
): number {
  const wanted = Object.entries(labels).map(([name, values]) =>
    (typeof values === 'string' ? [values] : values).map((v) => `${name}="${v}"`),
  );
  let total = 0;
  for (const line of text.split('\n')) {
    const next = line[metric.length];
    if (!line.startsWith(metric) || (next !== ' ' && next !== '{')) {
      continue;
    }
    if (wanted.every((any) => any.some((pair) => line.includes(pair)))) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}
