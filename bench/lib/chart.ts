// Latency histograms for the benchmarks: a text one for the terminal and an SVG one for bench/results/ (the
// README shows those). Both take the latencies sorted ascending, in milliseconds.

export interface HistogramSummary {
  latencyMs: Record<string, number>;
  /** The chart's heading; without it, the orders benchmark's own (from rate, ordersPerSecond and profile). */
  title?: string;
  /** What one sample is, for the axis label ("orders", "requests"). */
  samples?: string;
  /** More dashed lines beside p50 and p99, e.g. another target's p99 for comparison. */
  markers?: readonly { label: string; ms: number; color: string }[];
  rate?: number;
  ordersPerSecond?: number;
  profile?: string;
}

/** The value at quantile q (0…1) of latencies sorted ascending: the nearest rank, never past the last. */
export const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

function buckets(sorted: number[], count = 24) {
  const max = sorted.at(-1)!;
  // Whole milliseconds when latencies run long; finer steps for sub-millisecond ones.
  const width = max >= count ? Math.ceil(max / count) : Math.max(0.05, Number((max / count).toPrecision(1)));
  const counts = Array.from({ length: count }, () => 0);
  for (const value of sorted) counts[Math.min(count - 1, Math.floor(value / width))]! += 1;
  return { width, counts };
}

const round = (ms: number) => Number(ms.toPrecision(3));

export function histogramText(sorted: number[]): string {
  const { width, counts } = buckets(sorted, 16);
  const peak = Math.max(...counts);
  return counts
    .map(
      (n, i) => `${String(round(i * width)).padStart(6)} ms │${'█'.repeat(Math.round((n / peak) * 50))} ${n}`,
    )
    .join('\n');
}

export function histogramSvg(sorted: number[], summary: HistogramSummary): string {
  const { width, counts } = buckets(sorted);
  const peak = Math.max(...counts);
  const [w, h, pad] = [720, 320, 48];
  const span = width * counts.length;
  const barWidth = (w - 2 * pad) / counts.length;
  const x = (ms: number) => pad + (Math.min(ms, span) / span) * (w - 2 * pad);
  const bars = counts
    .map((n, i) => {
      const barHeight = (n / peak) * (h - 2 * pad);
      return `<rect x="${(pad + i * barWidth).toFixed(1)}" y="${(h - pad - barHeight).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="#3b7dd8"/>`;
    })
    .join('');
  const markers = [
    { label: 'p50', ms: summary.latencyMs.p50!, color: '#1a7f37' },
    { label: 'p99', ms: summary.latencyMs.p99!, color: '#cf222e' },
    ...(summary.markers ?? []),
  ];
  const lines = markers
    .map(
      ({ label, ms, color }, i) =>
        `<line x1="${x(ms)}" x2="${x(ms)}" y1="${pad}" y2="${h - pad}" stroke="${color}" stroke-dasharray="4 3"/><text x="${x(ms) + 4}" y="${pad + 12 + 14 * i}" fill="${color}">${label} ${round(ms)} ms</text>`,
    )
    .join('');
  const title =
    summary.title ??
    `POST /api/orders → CONFIRMED at ${summary.rate} orders/s (${summary.profile}); capacity ${summary.ordersPerSecond} orders/s`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${pad}" y="24" font-size="15">${escapeXml(title)}</text>
${bars}
${lines}
<line x1="${pad}" x2="${w - pad}" y1="${h - pad}" y2="${h - pad}" stroke="#444"/>
<text x="${pad}" y="${h - pad + 18}">0 ms</text><text x="${w - pad}" y="${h - pad + 18}" text-anchor="end">${round(span)} ms</text>
<text x="${w / 2}" y="${h - 10}" text-anchor="middle">latency (ms); bar height = ${summary.samples ?? 'orders'}</text>
</svg>
`;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
