// @ts-check
/**
 * handleSummary for every scenario: the whole summary as JSON under loadtests/results/ (or
 * SUMMARY_DIR), plus a short per-endpoint table on stdout.
 */

/**
 * @param {string} scenario
 * @returns {(data: any) => Record<string, string>}
 */
export function summaryWriter(scenario) {
  return (data) => {
    const dir = __ENV.SUMMARY_DIR || 'loadtests/results';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = `${dir}/${scenario}-${__ENV.PROFILE || 'smoke'}-${stamp}.json`;
    /** @type {string[]} */
    const lines = [
      `\n${scenario} (${__ENV.PROFILE || 'smoke'})`,
      'metric                                      p50      p95      p99   thresholds',
    ];
    const metrics = data.metrics || {};
    for (const name of Object.keys(metrics).sort()) {
      if (!name.startsWith('http_req_duration')) {
        continue;
      }
      const v = metrics[name].values || {};
      const th = metrics[name].thresholds || {};
      const ok = Object.keys(th).every((k) => th[k].ok);
      const f = (/** @type {number | undefined} */ x) =>
        (x === undefined ? '-' : x.toFixed(1)).padStart(8);
      lines.push(
        `${name.padEnd(40)} ${f(v.med)} ${f(v['p(95)'])} ${f(v['p(99)'])}   ${Object.keys(th).length ? (ok ? 'ok' : 'FAILED') : ''}`,
      );
    }
    const failed = metrics.http_req_failed ? metrics.http_req_failed.values.rate : 0;
    const checks = metrics.checks ? metrics.checks.values.rate : 1;
    lines.push(
      `failed requests ${(failed * 100).toFixed(2)}%, checks passed ${(checks * 100).toFixed(2)}%`,
    );
    lines.push(`summary: ${file}\n`);
    return { stdout: lines.join('\n'), [file]: JSON.stringify(data, null, 2) };
  };
}
