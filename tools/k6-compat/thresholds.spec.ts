import { MetricStore } from './metrics';
import { evaluate, parseThresholds, ThresholdError } from './thresholds';

describe(parseThresholds.name, () => {
  it('parses the thresholds loadtests/k6/lib/config.js declares, sub-metric filters included', () => {
    const sut = parseThresholds({
      http_req_failed: ['rate<0.01'],
      checks: ['rate>0.99'],
      'http_req_duration{endpoint:feed}': ['p(95)<50'],
    });
    expect(sut.map((t) => [t.metric, t.filter, t.expressions[0].aggregation])).toEqual([
      ['http_req_failed', {}, 'rate'],
      ['checks', {}, 'rate'],
      ['http_req_duration', { endpoint: 'feed' }, 'p(95)'],
    ]);
  });

  it('rejects an aggregation the metric type has not, and unknown metrics', () => {
    expect(() => parseThresholds({ http_req_failed: ['p(95)<1'] })).toThrow(ThresholdError);
    expect(() => parseThresholds({ my_metric: ['count>1'] })).toThrow(ThresholdError);
    expect(() =>
      parseThresholds({ checks: [{ threshold: 'rate>0.9', abortOnFail: true }] }),
    ).toThrow(/abortOnFail/);
  });
});

describe(evaluate.name, () => {
  it('judges only the tagged samples of a sub-metric, with k6 percentile interpolation', () => {
    const store = new MetricStore();
    store.add(
      [10, 20, 30, 40, 1000].map((value) => ({
        metric: 'http_req_duration',
        value,
        tags: { endpoint: value === 1000 ? 'login' : 'feed' },
      })),
    );
    const sut = evaluate(
      parseThresholds({
        'http_req_duration{endpoint:feed}': ['p(95)<50', 'med<20'],
        http_req_duration: ['p(95)<200'],
        'http_req_failed{endpoint:feed}': ['rate<0.01'],
      }),
      store,
      1,
    );
    expect(sut.map((r) => [r.source, Math.round(r.actual * 10) / 10, r.ok])).toEqual([
      ['p(95)<50', 38.5, true],
      ['med<20', 25, false],
      ['p(95)<200', 808, false],
      ['rate<0.01', 0, true],
    ]);
    expect(sut[3].empty).toBe(true);
  });
});
