/** The bench report: one Markdown table with ratios to the ceilings, and a bar chart as SVG. */

export interface Row {
  name: string;
  kind: 'ceiling' | 'journey';
  mode: string;
  rps: number;
  /** 2xx answers per second: rate-limited (429) answers are fast and must not count */
  okRps: number;
  p50: number;
  p99: number;
  errors: number;
}

export function markdownTable(rows: Row[]): string {
  const ceiling = Math.max(...rows.filter((r) => r.kind === 'ceiling').map((r) => r.okRps), 1);
  const lines = [
    '| target | mode | req/s | 2xx/s | % of NGINX ceiling (2xx) | p50 ms | p99 ms | non-2xx + errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.mode} | ${Math.round(r.rps)} | ${Math.round(r.okRps)} | ${((100 * r.okRps) / ceiling).toFixed(1)}% | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`,
    );
  }
  return lines.join('\n');
}

export function barChartSvg(rows: Row[], title: string): string {
  const width = 720;
  const barH = 22;
  const left = 260;
  const max = Math.max(...rows.map((r) => r.okRps), 1);
  const height = 40 + rows.length * (barH + 6);
  const bars = rows
    .map((r, i) => {
      const y = 30 + i * (barH + 6);
      const w = Math.max(1, ((width - left - 80) * r.okRps) / max);
      const fill = r.kind === 'ceiling' ? '#999' : '#3a7bd5';
      const label = `${r.name} (${r.mode})`.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${label}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill}"/><text x="${left + w + 6}" y="${y + 15}" font-size="12">${Math.round(r.okRps)} 2xx/s</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">${title}</text>\n${bars}\n</svg>\n`;
}
