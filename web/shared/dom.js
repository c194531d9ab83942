// Tiny DOM helpers for the pages: build elements from data (text is always text, never parsed as HTML),
// format money and times, and tell screen readers what changed.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Builds an element. `attrs`: `class`, `for`, `on<event>` handlers, `dataset`, booleans (true sets, false or
 * null leaves out), anything else as an attribute. Children: nodes, strings, numbers, arrays; null is skipped.
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** Like h, for SVG elements. @returns {SVGElement} */
export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/**
 * A data table: one header row of `columns` (each a `th scope=col`), then one row per item of `rows` with the
 * cells `cells(row)` gives (a `th scope=row` among them names the row) and the attributes `rowAttributes(row)`
 * gives (the data-* keys tests find rows by). `caption` names the table; `captionHidden` keeps that name for
 * screen readers only, where the page's heading already says it.
 * @returns {HTMLTableElement}
 */
export function dataTable({
  attributes = {},
  caption,
  captionHidden = false,
  columns,
  rows,
  rowAttributes,
  cells,
}) {
  return h(
    'table',
    attributes,
    caption === undefined ? null : h('caption', captionHidden ? { class: 'visually-hidden' } : {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((column) => h('th', { scope: 'col' }, column)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) => h('tr', rowAttributes?.(row) ?? {}, cells(row))),
    ),
  );
}

export const $ = (selector, root = document) => root.querySelector(selector);

/**
 * The view the location's hash names, `#/path?query`; a hash that is not a path (a skip link's `#main`, or
 * none) is `defaultPath`.
 */
export function hashRoute(defaultPath) {
  const hash = location.hash.startsWith('#/') ? location.hash.slice(1) : defaultPath;
  const [path, search = ''] = hash.split('?');
  return { path, query: new URLSearchParams(search) };
}

/** `{amount: 1999, currency: 'USD'}` as "$19.99" (the browser's locale, the money's own minor units). */
export function formatMoney(money) {
  if (!money) return '';
  const format = new Intl.NumberFormat(undefined, { style: 'currency', currency: money.currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(money.amount / 10 ** digits);
}

/** An ISO instant as a short local date and time. */
export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? ''
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A duration in milliseconds as "850 ms" or "1.25 s". */
export function formatDuration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`;
}

/**
 * Says `message` to screen readers through the page's polite live region (created on first use), and returns
 * it, so a visible status can show the same words.
 */
export function announce(message) {
  let region = document.getElementById('live-announcer');
  if (!region) {
    region = h('div', {
      id: 'live-announcer',
      class: 'visually-hidden',
      role: 'status',
      'aria-live': 'polite',
    });
    document.body.append(region);
  }
  region.textContent = '';
  // A change the next frame is read out even when the words are the same as last time.
  requestAnimationFrame(() => {
    region.textContent = message;
  });
  return message;
}

/**
 * Runs `task` on each interval until it returns true or `signal` aborts. A failing run is reported to
 * `onError` and tried again on the next tick.
 */
export async function pollUntil(task, { intervalMs = 1000, signal, onError } = {}) {
  while (!signal?.aborted) {
    try {
      if (await task()) return true;
    } catch (error) {
      if (error?.name === 'AbortError') return false;
      onError?.(error);
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      signal?.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true });
    });
  }
  return false;
}
