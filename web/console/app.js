// Souk's ops console, for admins: the fleet, resilience (breakers and RED charts), sagas (timeline, trace,
// resume), messaging (lag, parked, dead letters, replay), config (edit, validate, diff, apply, history), the
// audit and, on the local profile, the break panel. Built on the admin API (docs/api.md, "Admin API").
import { ApiError, createApi } from '/shared/api.js';
import {
  $,
  announce,
  dataTable,
  formatDuration,
  formatTime,
  h,
  hashRoute,
  pollUntil,
  replace,
  svg,
} from '/shared/dom.js';
import { timelineFigure } from '/shared/timeline.js';

const api = createApi();
const main = $('#main');
const SERVICES = ['gateway', 'users', 'orders', 'payments', 'inventory', 'notifications'];
/** How often the live pages ask again. */
const LIVE_MS = 1000;

// ---- routing: #/fleet, #/resilience, #/sagas, #/sagas/:orderId, #/messaging, #/config, #/audit, #/break ----

const routes = [
  [/^\/fleet$/, fleetView, 'Fleet'],
  [/^\/resilience$/, resilienceView, 'Resilience'],
  [/^\/sagas$/, sagasView, 'Sagas'],
  [/^\/sagas\/([^/]+)$/, timelineView, 'Order timeline'],
  [/^\/messaging$/, messagingView, 'Messaging'],
  [/^\/config$/, configView, 'Config'],
  [/^\/audit$/, auditView, 'Audit'],
  [/^\/break$/, breakView, 'Break something'],
  [/^\/sign-in$/, signInView, 'Sign in'],
];
const NAV = [
  ['/fleet', 'Fleet'],
  ['/resilience', 'Resilience'],
  ['/sagas', 'Sagas'],
  ['/messaging', 'Messaging'],
  ['/config', 'Config'],
  ['/audit', 'Audit'],
  ['/break', 'Break'],
];

/** Aborted when the view changes, so that a live view stops asking. */
let viewScope = new AbortController();
let navigated = false;

const currentRoute = () => hashRoute('/fleet');

const go = (path) => {
  location.hash = `#${path}`;
};

async function render() {
  viewScope.abort();
  viewScope = new AbortController();
  const { path, query } = currentRoute();
  renderHeader();
  const found = routes.find(([pattern]) => pattern.test(path));
  if (!found) {
    show(
      'Page not found',
      h('h1', {}, 'Page not found'),
      h('p', {}, h('a', { href: '#/fleet' }, 'Open the fleet')),
    );
    return;
  }
  const [pattern, view, title] = found;
  const signal = viewScope.signal;
  if (view !== signInView && !api.session()) {
    go(`/sign-in?next=${encodeURIComponent(path)}`);
    return;
  }
  try {
    await view(path.match(pattern), query, signal, title);
  } catch (error) {
    if (!signal.aborted) showProblem(title, error);
  }
}

function show(title, ...children) {
  document.title = `${title} · Souk ops`;
  replace(main, ...children);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    if (navigated) heading.focus();
  }
}

/** A 403 is a page of its own: this console is for admins, and the API said so. */
function showProblem(title, error) {
  if (error instanceof ApiError && error.status === 403) {
    show(
      'Forbidden',
      h('p', { class: 'forbidden', 'aria-hidden': 'true' }, '403'),
      h('h1', {}, 'Forbidden: this console is for admins'),
      h('p', {}, 'You are signed in, but your account is not an admin. The admin API answered 403.'),
      h('button', { type: 'button', onclick: signOut }, 'Sign in as someone else'),
    );
    return;
  }
  show(title, h('h1', {}, title), problemNotice(error));
}

function problemNotice(error) {
  const message = error instanceof Error ? error.message : String(error);
  const expired = error instanceof ApiError && error.signedOut;
  const fields = error instanceof ApiError ? (error.problem?.errors ?? []) : [];
  return h(
    'div',
    { class: 'notice error', role: 'alert' },
    h('p', {}, message),
    fields.length > 0
      ? h(
          'ul',
          {},
          fields.map((field) => h('li', {}, field.message)),
        )
      : null,
    expired ? h('p', {}, h('a', { href: '#/sign-in' }, 'Sign in')) : null,
  );
}

function renderHeader() {
  const session = api.session();
  const { path } = currentRoute();
  replace(
    $('#nav'),
    session
      ? NAV.map(([href, text]) =>
          h(
            'li',
            {},
            h('a', { href: `#${href}`, 'aria-current': path.startsWith(href) ? 'page' : null }, text),
          ),
        )
      : null,
  );
  replace(
    $('#account'),
    session
      ? [
          h('span', { class: 'who' }, `Signed in as ${session.user?.email ?? 'you'}`),
          h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out'),
        ]
      : null,
  );
}

function signOut() {
  api.signOut();
  go('/sign-in');
}

/** Runs `draw` now and every `LIVE_MS` until the view changes; a failure shows and the next run retries. */
async function live(signal, draw) {
  await draw();
  void pollUntil(
    async () => {
      await draw();
      return false;
    },
    {
      intervalMs: LIVE_MS,
      signal,
      onError: (error) => replace($('#live-error') ?? main, problemNotice(error)),
    },
  );
}

// ---- sign in ----

async function signInView(_match, query) {
  const form = h(
    'form',
    {
      class: 'stack',
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        const error = $('#sign-in-error');
        error.textContent = '';
        try {
          await api.signIn(String(data.get('email')), String(data.get('password')));
          announce('Signed in.');
          go(query.get('next') || '/fleet');
        } catch (failure) {
          error.textContent = failure.message;
        }
      },
    },
    h('label', { for: 'email' }, 'Email'),
    h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true }),
    h('label', { for: 'password' }, 'Password'),
    h('input', {
      id: 'password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    }),
    h('p', { class: 'form-error', id: 'sign-in-error', role: 'alert' }),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  show('Sign in', h('h1', {}, 'Sign in to the ops console'), form);
}

// ---- fleet ----

async function fleetView(_match, _query, signal, title) {
  const body = h('div', { 'aria-live': 'polite' });
  let first = true;
  await live(signal, async () => {
    const { items } = await api.get('/api/admin/fleet', { signal });
    if (first) {
      show(
        title,
        h('h1', {}, 'Fleet'),
        h(
          'p',
          { class: 'hint' },
          'Every instance the registry knows, asked for its health every second. One that dies leaves with its lease.',
        ),
        h('div', { id: 'live-error' }),
        body,
      );
      first = false;
    }
    replace(
      body,
      dataTable({
        attributes: { id: 'fleet' },
        caption: `${items.length} instances`,
        columns: ['Service', 'Instance', 'Health', 'Version', 'Up for', 'Address'],
        rows: items,
        rowAttributes: (item) => ({ dataset: { service: item.service, instance: item.id } }),
        cells: (item) => [
          h('td', {}, item.service),
          h('td', { class: 'mono' }, item.id),
          h(
            'td',
            {},
            h(
              'span',
              {
                class: `health ${item.health}`,
                title: Object.entries(item.checks)
                  .map(([k, v]) => `${k}: ${v}`)
                  .join('\n'),
              },
              item.health,
            ),
          ),
          h('td', {}, item.version ?? '–'),
          h('td', {}, item.uptimeSeconds === null ? '–' : formatDuration(item.uptimeSeconds * 1000)),
          h('td', { class: 'mono' }, item.url),
        ],
      }),
    );
  });
}

// ---- resilience: breakers and RED charts ----

/** A small line chart of one series, as SVG, with its last value as text. */
function sparkline(label, values, format, kind = '') {
  const width = 220;
  const height = 48;
  const max = Math.max(...values.map((v) => v ?? 0), 1e-9);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - ((v ?? 0) / max) * (height - 4)).toFixed(1)}`)
    .join(' ');
  const last = values.at(-1);
  return h(
    'figure',
    { class: `chart ${kind}` },
    svg(
      'svg',
      {
        viewBox: `0 0 ${width} ${height}`,
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-label': `${label}: ${last === null || last === undefined ? 'no data' : format(last)}`,
      },
      svg('polyline', { points }),
    ),
    h('figcaption', {}, `${label}: ${last === null || last === undefined ? '–' : format(last)}`),
  );
}

async function resilienceView(_match, _query, signal, title) {
  const breakers = h('div');
  const charts = h('div');
  let first = true;
  await live(signal, async () => {
    const state = await api.get('/api/admin/resilience', { signal });
    if (first) {
      show(
        title,
        h('h1', {}, 'Resilience'),
        h('div', { id: 'live-error' }),
        h('h2', {}, 'Breakers'),
        breakers,
        h('h2', {}, 'Routes (RED)'),
        charts,
      );
      first = false;
    }
    replace(
      breakers,
      state.upstreams.length === 0
        ? h('p', {}, 'The gateway has called no upstream yet.')
        : dataTable({
            attributes: { id: 'breakers' },
            columns: ['Upstream', 'Breaker', 'Recent failures'],
            rows: state.upstreams,
            rowAttributes: (upstream) => ({ dataset: { upstream: upstream.service } }),
            cells: (upstream) => [
              h('td', {}, upstream.service),
              h('td', {}, h('span', { class: `health ${upstream.breaker}` }, upstream.breaker)),
              h(
                'td',
                {},
                upstream.recentFailures.length === 0
                  ? 'none'
                  : h(
                      'ul',
                      {},
                      upstream.recentFailures
                        .slice(0, 5)
                        .map((f) => h('li', {}, `${formatTime(f.at)}: ${f.reason}`)),
                    ),
              ),
            ],
          }),
    );
    replace(
      charts,
      h(
        'p',
        { class: 'hint' },
        `One point every ${state.intervalSeconds} s, from the gateway's own request histogram.`,
      ),
      state.routes.map((route) =>
        h(
          'section',
          { class: 'route-red', dataset: { route: route.route } },
          h('h3', {}, route.route),
          h(
            'div',
            { class: 'charts' },
            sparkline(
              'Rate',
              route.points.map((p) => p.rate),
              (v) => `${v.toFixed(1)} req/s`,
            ),
            sparkline(
              'Errors',
              route.points.map((p) => p.errors),
              (v) => `${v.toFixed(2)} /s`,
              'errors',
            ),
            sparkline(
              'p50',
              route.points.map((p) => p.p50Ms),
              (v) => `${v.toFixed(1)} ms`,
            ),
            sparkline(
              'p99',
              route.points.map((p) => p.p99Ms),
              (v) => `${v.toFixed(1)} ms`,
            ),
          ),
        ),
      ),
    );
  });
}

// ---- sagas ----

function sagaTable(id, sagas, { resumable }) {
  if (sagas.length === 0) return h('p', { id }, 'None.');
  return dataTable({
    attributes: { id },
    columns: ['Saga', 'Type', 'Status', 'Started', 'Order', 'Trace', ''],
    rows: sagas,
    rowAttributes: (saga) => ({ dataset: { saga: saga.id } }),
    cells: (saga) => [
      h('td', { class: 'mono' }, saga.id.slice(0, 8)),
      h('td', {}, saga.type),
      h('td', {}, saga.status, saga.failureReason ? ` (${saga.failureReason})` : ''),
      h('td', {}, formatTime(saga.createdAt)),
      h('td', {}, saga.orderId ? h('a', { href: `#/sagas/${saga.orderId}` }, 'Timeline') : '–'),
      h(
        'td',
        {},
        saga.traceUrl
          ? h(
              'a',
              { href: saga.traceUrl, target: '_blank', rel: 'noopener noreferrer', class: 'trace-link' },
              'Trace',
            )
          : '–',
      ),
      h(
        'td',
        {},
        resumable ? h('button', { type: 'button', onclick: () => resume(saga.id) }, 'Resume') : null,
      ),
    ],
  });
}

async function resume(id) {
  try {
    await api.post(`/api/admin/sagas/${id}/resume`);
    announce(`Saga ${id.slice(0, 8)} resumed.`);
  } catch (error) {
    replace($('#live-error'), problemNotice(error));
  }
}

async function sagasView(_match, _query, signal, title) {
  const lists = h('div');
  let first = true;
  await live(signal, async () => {
    const sagas = await api.get('/api/admin/sagas', { signal });
    if (first) {
      show(title, h('h1', {}, 'Sagas'), h('div', { id: 'live-error' }), lists);
      first = false;
    }
    replace(
      lists,
      h('h2', {}, `Stuck past the deadline (${formatDuration(sagas.deadlineMs)})`),
      sagaTable('stuck', sagas.stuck, { resumable: true }),
      h('h2', {}, 'In flight'),
      sagaTable('in-flight', sagas.inFlight, { resumable: false }),
      h('h2', {}, 'Recently finished'),
      sagaTable('finished', sagas.finished, { resumable: false }),
    );
  });
}

async function timelineView(match, _query, signal, title) {
  const orderId = decodeURIComponent(match[1]);
  const [timeline, sagas] = await Promise.all([
    api.get(`/api/orders/${orderId}/timeline`, { signal }),
    api.get('/api/admin/sagas', { signal }),
  ]);
  const saga = [...sagas.stuck, ...sagas.inFlight, ...sagas.finished].find((s) => s.orderId === orderId);
  show(
    title,
    h('h1', {}, `Order ${orderId.slice(0, 8)}`),
    h('p', {}, h('a', { href: '#/sagas' }, 'Back to the sagas')),
    saga?.traceUrl
      ? h(
          'p',
          {},
          h(
            'a',
            { href: saga.traceUrl, target: '_blank', rel: 'noopener noreferrer', class: 'trace-link' },
            'Open its trace',
          ),
        )
      : null,
    timelineFigure(timeline.items, { title: `Order ${orderId.slice(0, 8)}` }),
  );
}

// ---- messaging ----

function servicePicker(current, path) {
  return h(
    'form',
    { class: 'toolbar', onsubmit: (event) => event.preventDefault() },
    h('label', { for: 'service' }, 'Service'),
    h(
      'select',
      { id: 'service', onchange: (event) => go(`${path}?service=${event.currentTarget.value}`) },
      SERVICES.map((name) => h('option', { value: name, selected: name === current }, name)),
    ),
  );
}

async function messagingView(_match, query, signal, title) {
  const service = query.get('service') ?? 'orders';
  const base = `/api/admin/services/${service}/messaging`;
  const body = h('div');
  let first = true;
  await live(signal, async () => {
    const state = await api.get(base, { signal });
    if (first) {
      show(
        title,
        h('h1', {}, 'Messaging'),
        servicePicker(service, '/messaging'),
        h('div', { id: 'live-error' }),
        body,
      );
      first = false;
    }
    const outbox = state.outbox;
    replace(
      body,
      h('h2', {}, 'Outbox'),
      outbox === null
        ? h('p', {}, `${service} has no outbox.`)
        : h(
            'p',
            { id: 'outbox' },
            `${outbox.unsent} unsent, oldest ${outbox.lagSeconds.toFixed(1)} s old (lag); ${outbox.parked} parked.`,
          ),
      h('h2', {}, 'Parked events'),
      state.parked.length === 0
        ? h('p', {}, 'None.')
        : [
            dataTable({
              caption: 'Parked events',
              captionHidden: true,
              columns: ['Event', 'Type', 'Last error', 'Parked'],
              rows: state.parked,
              cells: (event) => [
                h('td', { class: 'mono' }, event.id),
                h('td', {}, event.type),
                h('td', {}, event.lastError ?? ''),
                h('td', {}, formatTime(event.parkedAt)),
              ],
            }),
            h(
              'button',
              { type: 'button', onclick: () => act(`${base}/parked/release`, {}, 'Parked events released.') },
              'Release all parked events',
            ),
          ],
      h('h2', {}, 'Dead letters'),
      state.deadLetters.length === 0
        ? h('p', {}, `${service} consumes no events.`)
        : state.deadLetters.map((group) =>
            h(
              'section',
              { dataset: { group: group.group } },
              h('h3', {}, `Group ${group.group}: ${group.items.length}`),
              group.items.length === 0
                ? h('p', {}, 'None.')
                : [
                    dataTable({
                      caption: `Dead letters of ${group.group}`,
                      captionHidden: true,
                      columns: ['Event', 'Type', 'Attempts', 'Last error', 'Action'],
                      rows: group.items,
                      cells: (item) => [
                        h('td', { class: 'mono' }, item.envelope.id),
                        h('td', {}, item.envelope.type),
                        h('td', {}, String(item.attempts)),
                        h('td', {}, item.lastError ?? '–'),
                        h(
                          'td',
                          {},
                          h(
                            'button',
                            {
                              type: 'button',
                              onclick: () =>
                                act(
                                  `${base}/dead-letters/replay`,
                                  { group: group.group, ids: [item.envelope.id] },
                                  'Replayed.',
                                ),
                            },
                            'Replay',
                          ),
                        ),
                      ],
                    }),
                    h(
                      'button',
                      {
                        type: 'button',
                        onclick: () =>
                          act(
                            `${base}/dead-letters/replay`,
                            { group: group.group },
                            'Dead letters replayed.',
                          ),
                      },
                      `Replay all of ${group.group}`,
                    ),
                  ],
            ),
          ),
    );
  });
}

async function act(path, body, done) {
  try {
    await api.post(path, body);
    announce(done);
  } catch (error) {
    replace($('#live-error'), problemNotice(error));
  }
}

// ---- config ----

async function configView(_match, query, signal, title) {
  const service = query.get('service') ?? 'gateway';
  const base = `/api/admin/services/${service}/config`;
  const [current, history] = await Promise.all([
    api.get(base, { signal }),
    api.get(`${base}/history`, { signal }),
  ]);
  let version = current.version;
  const editor = h('textarea', { id: 'document', class: 'config', spellcheck: 'false' }, current.document);
  const result = h('div', { id: 'config-result', 'aria-live': 'polite' });
  const submit = async (dryRun) => {
    replace(result);
    try {
      const answer = await api.request('PUT', `${base}${dryRun ? '?dryRun=true' : ''}`, {
        body: { document: editor.value, version },
      });
      const lines = answer.diff.length === 0 ? ['(no change)'] : answer.diff;
      replace(
        result,
        h(
          'p',
          { class: `notice ${answer.applied ? 'ok' : ''}` },
          answer.applied
            ? `Applied to ${service}; every instance takes it within a second.`
            : 'Preview: nothing is applied yet.',
        ),
        h('pre', { class: 'diff', id: 'diff' }, lines.join('\n')),
      );
      announce(answer.applied ? 'Config applied.' : 'Diff ready.');
      if (answer.applied) version = (await api.get(base)).version;
    } catch (error) {
      replace(result, problemNotice(error));
    }
  };
  show(
    title,
    h('h1', {}, 'Config'),
    servicePicker(service, '/config'),
    h(
      'p',
      { class: 'hint' },
      `Source: ${current.source}. The YAML below is ${service}'s own document; defaults, shared keys and the environment still apply.`,
    ),
    h('label', { for: 'document' }, `${service} config (YAML)`),
    editor,
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'button', class: 'secondary', onclick: () => submit(true) }, 'Preview diff'),
      h('button', { type: 'button', onclick: () => submit(false) }, 'Apply'),
    ),
    result,
    h('h2', {}, 'History'),
    history.items.length === 0
      ? h('p', {}, 'No change was applied from here yet.')
      : dataTable({
          attributes: { id: 'history' },
          columns: ['When', 'Who', 'What changed'],
          rows: history.items,
          cells: (entry) => [
            h('td', {}, formatTime(entry.at)),
            h('td', { class: 'mono' }, entry.actor),
            h('td', {}, h('pre', { class: 'diff' }, entry.diff.join('\n') || '(no change)')),
          ],
        }),
    h(
      'details',
      {},
      h('summary', {}, 'Effective configuration (secrets hidden)'),
      h('pre', { class: 'diff' }, JSON.stringify(current.effective, null, 2)),
    ),
  );
}

// ---- audit ----

async function auditView(_match, _query, signal, title) {
  const audit = await api.get('/api/admin/audit', { signal });
  show(
    title,
    h('h1', {}, 'Audit'),
    audit.unavailable.length > 0
      ? h('p', { class: 'notice error' }, `Not answering: ${audit.unavailable.join(', ')}.`)
      : null,
    audit.items.length === 0
      ? h('p', {}, 'No admin action yet.')
      : dataTable({
          attributes: { id: 'audit' },
          columns: ['When', 'Service', 'Who', 'What', 'On what'],
          rows: audit.items,
          cells: (item) => [
            h('td', {}, formatTime(item.at)),
            h('td', {}, item.service),
            h('td', { class: 'mono' }, item.actor),
            h('td', {}, item.action),
            h('td', { class: 'mono' }, item.target),
          ],
        }),
  );
}

// ---- break something (local profile) ----

async function breakView(_match, _query, signal, title) {
  const state = await api.get('/api/admin/break', { signal });
  if (!state.available) {
    show(
      title,
      h('h1', {}, 'Break something'),
      h('p', { class: 'notice', id: 'break-unavailable' }, state.reason),
    );
    return;
  }
  const result = h('div', { id: 'break-result', 'aria-live': 'polite' });
  const breakIt = async (body, what) => {
    try {
      await api.post('/api/admin/break', body);
      replace(result, h('p', { class: 'notice ok' }, `${what}. Watch the fleet heal.`));
    } catch (error) {
      replace(result, problemNotice(error));
    }
  };
  show(
    title,
    h('h1', {}, 'Break something'),
    h(
      'p',
      { class: 'hint' },
      'The supervisor runs every process of this shop; it restarts what stops. Watch the fleet and the sagas while it heals.',
    ),
    result,
    dataTable({
      attributes: { id: 'instances' },
      columns: ['Service', 'Process', 'Starts', ''],
      rows: state.instances,
      rowAttributes: (instance) => ({ dataset: { service: instance.service } }),
      cells: (instance) => [
        h('td', {}, instance.service),
        h('td', {}, instance.running ? `pid ${instance.pid}` : 'not running'),
        h('td', {}, String(instance.starts)),
        h(
          'td',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () =>
                breakIt({ action: 'stop', service: instance.service }, `${instance.service} asked to stop`),
            },
            `Stop ${instance.service}`,
          ),
          ' ',
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: () =>
                breakIt({ action: 'kill', service: instance.service }, `${instance.service} killed`),
            },
            `Kill ${instance.service}`,
          ),
        ),
      ],
    }),
    h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: () =>
          breakIt({ action: 'drop-broker-connections' }, "The broker's connections were dropped"),
      },
      "Drop the broker's connections",
    ),
  );
}

window.addEventListener('hashchange', () => {
  navigated = true;
  void render();
});
api.onSessionChange(() => renderHeader());
void render();
