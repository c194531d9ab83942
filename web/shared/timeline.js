// An order's timeline as a picture: its saga steps as bars and its events as diamonds on one time axis, drawn
// as SVG from `GET /api/orders/:id/timeline`, with the same facts as a table for screen readers and keyboards.
import { formatDuration, h, svg } from './dom.js';

const WIDTH = 760;
const LABEL_WIDTH = 190;
const RIGHT_PAD = 56;
const ROW = 24;
const AXIS = 28;

/** The step statuses a bar is coloured by (CSS classes `tl-<status>` in shared/base.css). */
const STATUS_CLASS = {
  SUCCEEDED: 'tl-succeeded',
  STARTED: 'tl-started',
  FAILED: 'tl-failed',
  IN_DOUBT: 'tl-in-doubt',
};

/**
 * The figure for a timeline's entries (`items` of the API's answer): an SVG picture with a caption, and a
 * collapsible table of the same entries. `now` (ms) is where an unfinished step's bar ends.
 * @param {Array<any>} entries
 * @param {{ title?: string, now?: number }} [options]
 */
export function timelineFigure(entries, { title = 'Order timeline', now = Date.now() } = {}) {
  if (entries.length === 0) {
    return h('figure', { class: 'timeline' }, h('p', {}, 'Nothing has happened to this order yet.'));
  }
  const rows = layout(entries, now);
  return h(
    'figure',
    { class: 'timeline' },
    timelineSvg(rows, title),
    h(
      'figcaption',
      {},
      `${title}: ${rows.length} entries over ${formatDuration(rows.span)}. `,
      h('span', { class: 'tl-key tl-key-event' }, 'event'),
      ' ',
      h('span', { class: 'tl-key tl-succeeded' }, 'step done'),
      ' ',
      h('span', { class: 'tl-key tl-compensation' }, 'undo step'),
      ' ',
      h('span', { class: 'tl-key tl-failed' }, 'failed'),
    ),
    h('details', {}, h('summary', {}, 'The timeline as a table'), timelineTable(rows)),
  );
}

/** Rows in time order with their offsets from the first entry, and the span the axis covers. */
function layout(entries, now) {
  const sorted = [...entries].sort((a, b) => a.at.localeCompare(b.at));
  const origin = Date.parse(sorted[0].at);
  const rows = sorted.map((entry) => {
    const start = Date.parse(entry.at) - origin;
    const unfinished = entry.kind === 'step' && entry.durationMs === undefined;
    const duration =
      entry.kind === 'event' ? 0 : unfinished ? Math.max(0, now - origin - start) : entry.durationMs;
    return { entry, start, duration, unfinished };
  });
  rows.span = Math.max(1, ...rows.map((row) => row.start + row.duration));
  return rows;
}

/** Tick spacing of 1, 2 or 5 times a power of ten, giving about five ticks over `span`. */
function tickStep(span) {
  const rough = span / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough) ?? 10 * power;
}

function timelineSvg(rows, title) {
  const plot = WIDTH - LABEL_WIDTH - RIGHT_PAD;
  const height = AXIS + rows.length * ROW + 8;
  const x = (ms) => LABEL_WIDTH + (ms / rows.span) * plot;
  const step = tickStep(rows.span);

  const ticks = [];
  for (let t = 0; t <= rows.span + step / 1000; t += step) {
    ticks.push(
      svg('line', { class: 'tl-grid', x1: x(t), x2: x(t), y1: AXIS - 6, y2: height - 4 }),
      svg('text', { class: 'tl-tick', x: x(t), y: AXIS - 10, 'text-anchor': 'middle' }, formatDuration(t)),
    );
  }

  const marks = rows.map((row, index) => {
    const y = AXIS + index * ROW;
    const middle = y + ROW / 2;
    const { entry } = row;
    const label = svg(
      'text',
      { class: 'tl-label', x: LABEL_WIDTH - 8, y: middle + 4, 'text-anchor': 'end' },
      entry.kind === 'step' && entry.attempts > 1 ? `${entry.name} ×${entry.attempts}` : entry.name,
    );
    if (entry.kind === 'event') {
      const cx = x(row.start);
      return svg(
        'g',
        { class: 'tl-event' },
        svg('title', {}, `${entry.name} at ${formatDuration(row.start)}`),
        label,
        svg('path', { d: `M${cx} ${middle - 7}l7 7l-7 7l-7 -7z` }),
      );
    }
    const width = Math.max(3, x(row.start + row.duration) - x(row.start));
    const classes = [
      'tl-step',
      STATUS_CLASS[entry.status] ?? 'tl-other',
      entry.direction === 'compensation' ? 'tl-compensation' : '',
      row.unfinished ? 'tl-unfinished' : '',
    ];
    return svg(
      'g',
      { class: classes.filter(Boolean).join(' ') },
      svg('title', {}, describeStep(row)),
      label,
      svg('rect', { x: x(row.start), y: y + 4, width, height: ROW - 8, rx: 3 }),
      svg(
        'text',
        { class: 'tl-duration', x: x(row.start) + width + 4, y: middle + 4 },
        row.unfinished ? 'running' : formatDuration(row.duration),
      ),
    );
  });

  return svg(
    'svg',
    {
      class: 'tl-chart',
      viewBox: `0 0 ${WIDTH} ${height}`,
      role: 'img',
      'aria-label': `${title}: ${rows.map((row) => row.entry.name).join(', then ')}.`,
      preserveAspectRatio: 'xMinYMin meet',
    },
    svg('title', {}, title),
    ...ticks,
    ...marks,
  );
}

function describeStep(row) {
  const { entry } = row;
  const parts = [
    `${entry.name} (${entry.saga})`,
    `started at ${formatDuration(row.start)}`,
    row.unfinished ? 'still running' : `took ${formatDuration(row.duration)}`,
    entry.status.toLowerCase().replace('_', ' '),
  ];
  if (entry.attempts > 1) parts.push(`${entry.attempts} attempts`);
  if (entry.error) parts.push(entry.error);
  return parts.join(', ');
}

function timelineTable(rows) {
  return h(
    'table',
    { class: 'tl-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['At', 'What', 'Kind', 'Status', 'Took', 'Attempts', 'Error'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map(({ entry, start, duration, unfinished }) =>
        h(
          'tr',
          {},
          h('td', {}, formatDuration(start)),
          h('td', {}, entry.name),
          h('td', {}, entry.kind === 'event' ? 'event' : `${entry.saga} ${entry.direction}`),
          h('td', {}, entry.kind === 'event' ? '' : entry.status),
          h('td', {}, entry.kind === 'event' ? '' : unfinished ? 'running' : formatDuration(duration)),
          h('td', {}, entry.kind === 'event' ? '' : String(entry.attempts)),
          h('td', {}, entry.error ?? ''),
        ),
      ),
    ),
  );
}
