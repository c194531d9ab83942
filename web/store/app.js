// Souk's storefront: the catalog, a product's page, accounts, the cart and checkout with the test cards, my
// orders with their live status and timeline, and the notifications feed. One page; the hash names the view.
import { ApiError, SESSION_EXPIRED, createApi, newIdempotencyKey } from '/shared/api.js';
import {
  $,
  announce,
  dataTable,
  formatMoney,
  formatTime,
  h,
  hashRoute,
  pollUntil,
  replace,
} from '/shared/dom.js';

const api = createApi();
const main = $('#main');
const PAGE_SIZE = 12;
const POLL_MS = 700;

// ---- the cart: kept in this browser, whoever is signed in, across sign-outs and expired sessions ----

const CART_KEY = 'souk.cart';
const CHECKOUT_KEY = 'souk.checkout';

const cart = {
  /** @returns {Array<{productId: string, name: string, price: {amount: number, currency: string}, quantity: number}>} */
  lines() {
    try {
      const lines = JSON.parse(localStorage.getItem(CART_KEY) ?? '[]');
      return Array.isArray(lines) ? lines : [];
    } catch {
      return [];
    }
  },
  save(lines) {
    localStorage.setItem(CART_KEY, JSON.stringify(lines.filter((line) => line.quantity > 0)));
    renderHeader();
  },
  add(product, quantity) {
    const lines = cart.lines();
    const line = lines.find((l) => l.productId === product.id);
    if (line) line.quantity += quantity;
    else lines.push({ productId: product.id, name: product.name, price: product.price, quantity });
    cart.save(lines);
  },
  setQuantity(productId, quantity) {
    cart.save(cart.lines().map((l) => (l.productId === productId ? { ...l, quantity } : l)));
  },
  count: () => cart.lines().reduce((sum, line) => sum + line.quantity, 0),
  clear() {
    localStorage.removeItem(CART_KEY);
    renderHeader();
  },
};

/**
 * The Idempotency-Key of the current checkout attempt, kept (with what it was for) until the order is placed:
 * pressing "Place order" again after a network failure resends the same key, so it never makes a second
 * order. A changed cart or card is a new attempt with a new key.
 */
function checkoutKeyFor(body) {
  const fingerprint = JSON.stringify(body);
  try {
    const stored = JSON.parse(localStorage.getItem(CHECKOUT_KEY) ?? 'null');
    if (stored?.fingerprint === fingerprint && typeof stored.key === 'string') return stored.key;
  } catch {
    // A damaged entry is replaced below.
  }
  const key = newIdempotencyKey();
  localStorage.setItem(CHECKOUT_KEY, JSON.stringify({ key, fingerprint }));
  return key;
}

// ---- routing: #/, #/products/:id, #/cart, #/orders, #/orders/:id, #/notifications, #/sign-in, #/sign-up ----

/** Aborted when the view changes, so a view's polling stops with it. */
let viewScope = new AbortController();

const routes = [
  [/^\/$/, catalogView, 'Catalog'],
  [/^\/products\/([^/]+)$/, productView, 'Product'],
  [/^\/cart$/, cartView, 'Cart'],
  [/^\/orders$/, ordersView, 'My orders'],
  [/^\/orders\/([^/]+)$/, orderView, 'Order'],
  [/^\/notifications$/, notificationsView, 'Notifications'],
  [/^\/sign-in$/, (_m, query) => accountView('sign-in', query), 'Sign in'],
  [/^\/sign-up$/, (_m, query) => accountView('sign-up', query), 'Sign up'],
];

/** The view the hash names; a hash that is not a path (the skip link's #main) is the catalog's anchor. */
const currentRoute = () => hashRoute('/');

function go(path) {
  location.hash = `#${path}`;
}

/**
 * Draws the current view; `focus` names the element to focus afterwards instead of the heading. While a view
 * loads, main is aria-busy; once drawn, its data-view names the hash it shows (tests wait on both).
 */
async function render(focus) {
  viewScope.abort();
  viewScope = new AbortController();
  const signal = viewScope.signal;
  const { path, query } = currentRoute();
  main.setAttribute('aria-busy', 'true');
  renderHeader();
  const found = routes.find(([pattern]) => pattern.test(path));
  try {
    if (!found) {
      show(
        'Page not found',
        h('h1', {}, 'Page not found'),
        h('p', {}, h('a', { href: '#/' }, 'Go to the catalog')),
      );
      return;
    }
    const [pattern, view, title] = found;
    try {
      await view(path.match(pattern), query, signal, title);
      if (focus) main.querySelector(focus)?.focus();
    } catch (error) {
      if (!signal.aborted) show(title, h('h1', {}, title), problemNotice(error));
    }
  } finally {
    if (!signal.aborted) {
      main.removeAttribute('aria-busy');
      main.dataset.view = location.hash;
    }
  }
}

/** False until the first view is drawn: opening the shop leaves focus at the top, where a reader starts. */
let navigated = false;

/**
 * Puts a view on the page and names it in the title. After a navigation, focus moves to its heading, so
 * keyboard and screen-reader users start reading the new view rather than the link they left.
 */
function show(title, ...children) {
  document.title = `${title} · Souk`;
  replace(main, ...children);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    if (navigated) heading.focus();
  }
}

function problemNotice(error) {
  const message = error instanceof Error ? error.message : String(error);
  const expired = error instanceof ApiError && error.signedOut;
  return h(
    'div',
    { class: 'notice error', role: 'alert' },
    h('p', {}, message),
    expired ? h('p', {}, h('a', { href: signInLink() }, 'Sign in')) : null,
  );
}

const signInLink = () => `#/sign-in?next=${encodeURIComponent(currentRoute().path)}`;

// ---- header: navigation, cart count, who is signed in ----

function renderHeader() {
  const session = api.session();
  const { path } = currentRoute();
  const link = (href, text, match) =>
    h('li', {}, h('a', { href: `#${href}`, 'aria-current': match ? 'page' : null }, text));
  const count = cart.count();
  replace(
    $('#nav'),
    link('/', 'Catalog', path === '/' || path.startsWith('/products')),
    link('/cart', count > 0 ? `Cart (${count})` : 'Cart', path === '/cart'),
    session ? link('/orders', 'My orders', path.startsWith('/orders')) : null,
    session ? link('/notifications', 'Notifications', path === '/notifications') : null,
  );
  replace(
    $('#account'),
    session
      ? [
          h('span', { class: 'who' }, `Signed in as ${session.user?.name ?? session.user?.email ?? 'you'}`),
          h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out'),
        ]
      : [h('a', { href: '#/sign-in' }, 'Sign in'), h('a', { href: '#/sign-up', class: 'button' }, 'Sign up')],
  );
}

function signOut() {
  api.signOut();
  announce('You are signed out. Your cart is kept.');
  go('/');
}

// ---- catalog ----

async function catalogView(_match, query, signal) {
  const q = query.get('q') ?? '';
  const cursor = query.get('cursor') ?? '';
  const previous = query.getAll('back');
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (q) params.set('q', q);
  if (cursor) params.set('cursor', cursor);
  const page = await api.get(`/api/products?${params}`, { signal });

  const search = h(
    'form',
    {
      class: 'search',
      role: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        const text = new FormData(event.currentTarget).get('q').toString().trim();
        go(text ? `/?q=${encodeURIComponent(text)}` : '/');
      },
    },
    h('label', { for: 'search-q' }, 'Search products'),
    h(
      'div',
      { class: 'inline' },
      h('input', { id: 'search-q', name: 'q', type: 'search', value: q, placeholder: 'tea, mug, SKU…' }),
      h('button', { type: 'submit' }, 'Search'),
    ),
  );

  const pageLink = (nextCursor, back) => {
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    if (nextCursor) p.set('cursor', nextCursor);
    for (const b of back) p.append('back', b);
    return `#/?${p}`;
  };

  show(
    q ? `Search: ${q}` : 'Catalog',
    h('h1', {}, q ? `Products matching “${q}”` : 'Catalog'),
    search,
    page.items.length === 0
      ? h('p', { class: 'notice' }, q ? 'No product matches your search.' : 'The catalog is empty.')
      : h('ul', { class: 'products', 'aria-label': 'Products' }, page.items.map(productCard)),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Catalog pages' },
      previous.length > 0
        ? h('a', { href: pageLink(previous.at(-1), previous.slice(0, -1)), rel: 'prev' }, '← Previous page')
        : cursor
          ? h('a', { href: pageLink('', []), rel: 'prev' }, '← First page')
          : null,
      page.nextCursor
        ? h(
            'a',
            { href: pageLink(page.nextCursor, cursor ? [...previous, cursor] : previous), rel: 'next' },
            'Next page →',
          )
        : null,
    ),
  );
}

function stockText(product) {
  const available = product.stock?.available ?? 0;
  if (available <= 0) return 'Out of stock';
  if (available < 5) return `Only ${available} left`;
  return `${available} in stock`;
}

function productCard(product) {
  const soldOut = (product.stock?.available ?? 0) <= 0;
  return h(
    'li',
    { class: 'product-card' },
    h('h2', {}, h('a', { href: `#/products/${product.id}` }, product.name)),
    h('p', { class: 'price' }, formatMoney(product.price)),
    h('p', { class: soldOut ? 'stock out' : 'stock' }, stockText(product)),
    h(
      'button',
      {
        type: 'button',
        disabled: soldOut,
        onclick: () => {
          cart.add(product, 1);
          announce(`Added ${product.name} to your cart.`);
        },
      },
      'Add to cart',
      h('span', { class: 'visually-hidden' }, `: ${product.name}`),
    ),
  );
}

// ---- a product ----

async function productView(match, _query, signal) {
  const product = await api.get(`/api/products/${encodeURIComponent(match[1])}`, { signal });
  const available = product.stock?.available ?? 0;
  const status = h('p', { class: 'form-status', role: 'status' });
  show(
    product.name,
    h('p', {}, h('a', { href: '#/' }, '← Back to the catalog')),
    h(
      'article',
      { class: 'product' },
      h('h1', {}, product.name),
      h('p', { class: 'sku' }, `SKU ${product.sku}`),
      h('p', { class: 'description' }, product.description),
      h('p', { class: 'price big' }, formatMoney(product.price)),
      h('p', { class: available > 0 ? 'stock' : 'stock out' }, stockText(product)),
      available > 0
        ? h(
            'form',
            {
              class: 'add',
              onsubmit: (event) => {
                event.preventDefault();
                const quantity = Number(new FormData(event.currentTarget).get('quantity'));
                cart.add(product, quantity);
                status.textContent = announce(`Added ${quantity} × ${product.name} to your cart.`);
              },
            },
            h('label', { for: 'quantity' }, 'Quantity'),
            h(
              'div',
              { class: 'inline' },
              h('input', {
                id: 'quantity',
                name: 'quantity',
                type: 'number',
                min: 1,
                max: Math.min(available, 1000),
                value: 1,
                required: true,
              }),
              h('button', { type: 'submit' }, 'Add to cart'),
            ),
          )
        : null,
      status,
    ),
  );
}

// ---- accounts ----

function accountView(mode, query) {
  const next = query.get('next') || '/';
  const signUp = mode === 'sign-up';
  const error = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'account-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const button = form.querySelector('button[type=submit]');
        button.disabled = true;
        error.textContent = '';
        try {
          const email = data.get('email').toString().trim();
          const password = data.get('password').toString();
          const user = signUp
            ? await api.signUp({ email, password, name: data.get('name').toString().trim() })
            : await api.signIn(email, password);
          announce(`Signed in as ${user.name}.`);
          go(next);
        } catch (failure) {
          error.textContent = failure.message;
          button.disabled = false;
        }
      },
    },
    signUp
      ? [
          h('label', { for: 'name' }, 'Name'),
          h('input', { id: 'name', name: 'name', autocomplete: 'name', required: true, maxlength: 100 }),
        ]
      : null,
    h('label', { for: 'email' }, 'Email'),
    h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true }),
    h('label', { for: 'password' }, 'Password'),
    h('input', {
      id: 'password',
      name: 'password',
      type: 'password',
      autocomplete: signUp ? 'new-password' : 'current-password',
      required: true,
      minlength: signUp ? 8 : null,
      maxlength: 128,
      'aria-describedby': signUp ? 'password-hint' : null,
    }),
    signUp ? h('p', { class: 'hint', id: 'password-hint' }, 'At least 8 characters.') : null,
    error,
    h('button', { type: 'submit' }, signUp ? 'Create account' : 'Sign in'),
  );
  const other = signUp
    ? h(
        'p',
        {},
        'Have an account? ',
        h('a', { href: `#/sign-in?next=${encodeURIComponent(next)}` }, 'Sign in'),
      )
    : h(
        'p',
        {},
        'New here? ',
        h('a', { href: `#/sign-up?next=${encodeURIComponent(next)}` }, 'Create an account'),
      );
  show(signUp ? 'Sign up' : 'Sign in', h('h1', {}, signUp ? 'Create your account' : 'Sign in'), form, other);
}

/** When the session can no longer be renewed: ask to sign in again, in place; the cart stays. */
function askToSignInAgain(lastEmail) {
  const dialog = $('#sign-in-again');
  if (dialog.open) return;
  const form = $('#sign-in-again-form');
  const error = $('#sign-in-again-error');
  form.reset();
  error.textContent = '';
  if (lastEmail) $('#again-email').value = lastEmail;
  dialog.showModal();
  (lastEmail ? $('#again-password') : $('#again-email')).focus();
}

function wireSignInAgain() {
  const dialog = $('#sign-in-again');
  const form = $('#sign-in-again-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await api.signIn(data.get('email').toString().trim(), data.get('password').toString());
      dialog.close();
      announce('Signed in again. Your cart is as you left it.');
      void render();
    } catch (failure) {
      $('#sign-in-again-error').textContent = failure.message;
    }
  });
  $('#sign-in-again-cancel').addEventListener('click', () => {
    dialog.close();
    void render();
  });
}

// ---- cart and checkout ----

const TEST_CARDS = [
  { number: '4242424242424242', label: '4242 4242 4242 4242 (approved)' },
  { number: '4000000000000002', label: '4000 0000 0000 0002 (declined)' },
];

/** A checkout in flight: a second press while it runs does nothing (a double click makes one order). */
let placing = false;

function cartView() {
  const lines = cart.lines();
  if (lines.length === 0) {
    show(
      'Cart',
      h('h1', {}, 'Your cart'),
      h('p', {}, 'Your cart is empty. ', h('a', { href: '#/' }, 'Browse the catalog')),
    );
    return;
  }
  const session = api.session();
  const currency = lines[0].price.currency;
  const total = lines.reduce((sum, line) => sum + line.price.amount * line.quantity, 0);
  const status = h('div', { class: 'checkout-status', role: 'status', 'aria-live': 'polite' });

  const table = dataTable({
    attributes: { class: 'cart' },
    caption: 'Items in your cart',
    captionHidden: true,
    columns: ['Product', 'Price', 'Quantity', 'Subtotal', ''],
    rows: lines,
    cells: (line) => [
      h('th', { scope: 'row' }, h('a', { href: `#/products/${line.productId}` }, line.name)),
      h('td', {}, formatMoney(line.price)),
      h(
        'td',
        {},
        h('input', {
          type: 'number',
          min: 1,
          max: 1000,
          value: line.quantity,
          id: `quantity-${line.productId}`,
          class: 'quantity',
          'aria-label': `Quantity of ${line.name}`,
          onchange: (event) => {
            const quantity = Math.max(1, Math.min(1000, Math.floor(Number(event.target.value) || 1)));
            cart.setQuantity(line.productId, quantity);
            void render(`#quantity-${line.productId}`);
          },
        }),
      ),
      h('td', {}, formatMoney({ amount: line.price.amount * line.quantity, currency: line.price.currency })),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Remove ${line.name}`,
            onclick: () => {
              cart.setQuantity(line.productId, 0);
              announce(`Removed ${line.name}.`);
              void render('.cart button, #main h1');
            },
          },
          'Remove',
        ),
      ),
    ],
  });

  const checkout = session
    ? h(
        'form',
        {
          class: 'checkout',
          onsubmit: (event) => (event.preventDefault(), void placeOrder(event.currentTarget, status)),
        },
        h(
          'fieldset',
          {},
          h('legend', {}, 'Pay with a test card'),
          TEST_CARDS.map((card, index) =>
            h(
              'div',
              { class: 'choice' },
              h('input', {
                type: 'radio',
                name: 'card-choice',
                id: `card-${index}`,
                value: card.number,
                checked: index === 0,
              }),
              h('label', { for: `card-${index}` }, card.label),
            ),
          ),
          h(
            'div',
            { class: 'choice' },
            h('input', { type: 'radio', name: 'card-choice', id: 'card-other', value: 'other' }),
            h('label', { for: 'card-other' }, 'Another card number'),
          ),
          h('label', { for: 'card-number' }, 'Card number'),
          h('input', {
            id: 'card-number',
            name: 'card-number',
            inputmode: 'numeric',
            autocomplete: 'cc-number',
            placeholder: '12 to 19 digits',
            'aria-describedby': 'card-hint',
          }),
          h('p', { class: 'hint', id: 'card-hint' }, 'Used only when “Another card number” is chosen.'),
        ),
        h('p', { class: 'total' }, 'Total: ', h('strong', {}, formatMoney({ amount: total, currency }))),
        h('p', { class: 'hint' }, 'The final price is the catalog price when the order is placed.'),
        h('button', { type: 'submit', id: 'place-order' }, 'Place order'),
      )
    : h(
        'p',
        { class: 'notice' },
        h('a', { href: '#/sign-in?next=%2Fcart' }, 'Sign in'),
        ' or ',
        h('a', { href: '#/sign-up?next=%2Fcart' }, 'create an account'),
        ' to place your order. Your cart is kept.',
      );

  show('Cart', h('h1', {}, 'Your cart'), table, checkout, status);
}

function chosenCard(form) {
  const data = new FormData(form);
  const choice = data.get('card-choice');
  return (choice === 'other' ? data.get('card-number').toString() : String(choice)).replace(/[\s-]/g, '');
}

async function placeOrder(form, status) {
  if (placing) return;
  const button = form.querySelector('#place-order');
  const card = chosenCard(form);
  if (!/^[0-9]{12,19}$/.test(card)) {
    replace(
      status,
      h('p', { class: 'notice error', role: 'alert' }, 'Enter a card number of 12 to 19 digits.'),
    );
    return;
  }
  const body = {
    items: cart.lines().map((line) => ({ productId: line.productId, quantity: line.quantity })),
    payment: { card },
  };
  const idempotencyKey = checkoutKeyFor(body);
  placing = true;
  button.setAttribute('aria-disabled', 'true');
  button.textContent = 'Placing your order…';
  replace(status, h('p', {}, announce('Placing your order…')));
  try {
    const placed = await placeWithPatience(body, idempotencyKey);
    localStorage.removeItem(CHECKOUT_KEY);
    cart.clear();
    announce('Order placed. Waiting for the payment and the stock.');
    go(`/orders/${placed.id}`);
  } catch (error) {
    const words =
      error instanceof ApiError && error.outcomeUnknown
        ? `${error.message} If the order went through, pressing “Place order” again will not make a second one.`
        : error.message;
    replace(status, h('div', { class: 'notice error', role: 'alert' }, h('p', {}, words)));
    if (error instanceof ApiError && error.code === SESSION_EXPIRED) askToSignInAgain(lastEmail());
  } finally {
    placing = false;
    button.removeAttribute('aria-disabled');
    button.textContent = 'Place order';
  }
}

/** Sends the order; while the first attempt with this key is still being processed (409), waits and asks again. */
async function placeWithPatience(body, idempotencyKey) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.post('/api/orders', body, { idempotencyKey, auth: true });
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'REQUEST_IN_PROGRESS' || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
    }
  }
}

// ---- my orders ----

const REASONS = {
  'payment declined': 'Your card was declined, so the order was cancelled. Nothing was charged.',
  'insufficient stock':
    'There was not enough stock for an item, so the order was cancelled. Nothing was charged.',
  'a product is no longer sold':
    'An item is no longer sold, so the order was cancelled. Nothing was charged.',
  'cancelled by the customer': 'You cancelled this order. Any payment was refunded and the items restocked.',
};

/** An order's outcome in plain words. */
function outcome(order) {
  if (order.status === 'PENDING') return 'We are taking the payment and reserving the stock…';
  if (order.status === 'CONFIRMED')
    return 'Your order is confirmed: paid, and the items are set aside for you.';
  const reason = order.reason ?? '';
  return (
    REASONS[reason] ??
    `The order was cancelled${reason ? `: ${reason}` : ''}. Nothing was charged, or it was refunded.`
  );
}

const statusBadge = (status) => h('span', { class: `status ${status}` }, status);

async function ordersView(_match, query, signal) {
  const cursor = query.get('cursor') ?? '';
  const params = new URLSearchParams({ limit: '20' });
  if (cursor) params.set('cursor', cursor);
  const page = await api.get(`/api/orders?${params}`, { signal, auth: true });
  show(
    'My orders',
    h('h1', {}, 'My orders'),
    page.items.length === 0
      ? h('p', {}, 'You have no orders yet. ', h('a', { href: '#/' }, 'Browse the catalog'))
      : dataTable({
          attributes: { class: 'orders' },
          caption: 'Your orders, newest first',
          captionHidden: true,
          columns: ['Order', 'Placed', 'Items', 'Total', 'Status'],
          rows: page.items,
          cells: (order) => [
            h(
              'th',
              { scope: 'row' },
              h('a', { href: `#/orders/${order.id}` }, `Order ${order.id.slice(0, 8)}`),
            ),
            h('td', {}, formatTime(order.createdAt)),
            h('td', {}, String(order.items.reduce((sum, item) => sum + item.quantity, 0))),
            h('td', {}, formatMoney(order.total)),
            h('td', {}, statusBadge(order.status)),
          ],
        }),
    page.nextCursor
      ? h(
          'nav',
          { class: 'pager', 'aria-label': 'Order pages' },
          h('a', { href: `#/orders?cursor=${encodeURIComponent(page.nextCursor)}` }, 'Older orders →'),
        )
      : null,
  );
}

async function orderView(match, _query, signal) {
  const id = match[1];
  let order = await api.get(`/api/orders/${encodeURIComponent(id)}`, { signal, auth: true });
  const names = await productNames(
    order.items.map((item) => item.productId),
    signal,
  );
  const statusLine = h('p', { class: 'order-status', 'aria-live': 'polite' });
  const outcomeLine = h('p', { class: 'order-outcome' });
  const actions = h('div', { class: 'actions' });
  const timeline = h(
    'section',
    { 'aria-labelledby': 'timeline-title' },
    h('h2', { id: 'timeline-title' }, 'Timeline'),
  );
  const timelineBody = h('div', { class: 'timeline-body' });
  timeline.append(timelineBody);
  let cancelling = false;

  const items = dataTable({
    attributes: { class: 'order-items' },
    caption: 'Items in this order',
    captionHidden: true,
    columns: ['Product', 'Unit price', 'Quantity'],
    rows: order.items,
    cells: (item) => [
      h(
        'th',
        { scope: 'row' },
        h(
          'a',
          { href: `#/products/${item.productId}` },
          names.get(item.productId) ?? `Product ${item.productId.slice(0, 8)}`,
        ),
      ),
      h('td', {}, formatMoney(item.unitPrice)),
      h('td', {}, String(item.quantity)),
    ],
  });

  const update = (next) => {
    const changed = next.status !== order.status;
    order = next;
    replace(statusLine, 'Status: ', statusBadge(order.status));
    replace(outcomeLine, outcome(order));
    outcomeLine.className = `order-outcome notice ${order.status === 'CONFIRMED' ? 'ok' : order.status === 'CANCELLED' ? 'error' : ''}`;
    if (changed) announce(`Order ${order.status.toLowerCase()}. ${outcome(order)}`);
    replace(
      actions,
      order.status === 'CANCELLED'
        ? null
        : h(
            'button',
            { type: 'button', class: 'danger', id: 'cancel-order', onclick: cancel, disabled: cancelling },
            cancelling ? 'Cancelling…' : 'Cancel order',
          ),
    );
  };

  const drawTimeline = async () => {
    const [{ timelineFigure }, answer] = await Promise.all([
      import('/shared/timeline.js'),
      api.get(`/api/orders/${encodeURIComponent(id)}/timeline`, { signal, auth: true }),
    ]);
    replace(timelineBody, timelineFigure(answer.items, { title: `Timeline of order ${id.slice(0, 8)}` }));
  };

  /** Follows the order until its status is final (and, while a cancellation runs, until it is cancelled). */
  const follow = () =>
    pollUntil(
      async () => {
        const next = await api.get(`/api/orders/${encodeURIComponent(id)}`, { signal, auth: true });
        update(next);
        const settled = cancelling ? next.status === 'CANCELLED' : next.status !== 'PENDING';
        if (settled) {
          cancelling = false;
          update(next);
          await drawTimeline();
        }
        return settled;
      },
      { intervalMs: POLL_MS, signal, onError: (error) => announceOnce(error) },
    );

  async function cancel() {
    if (cancelling) return;
    cancelling = true;
    update(order);
    try {
      await api.post(`/api/orders/${encodeURIComponent(id)}/cancel`, undefined, { auth: true });
      announce('Cancelling your order…');
      await follow();
    } catch (error) {
      cancelling = false;
      update(order);
      replace(outcomeLine, error.message);
      outcomeLine.className = 'order-outcome notice error';
    }
  }

  show(
    `Order ${id.slice(0, 8)}`,
    h('p', {}, h('a', { href: '#/orders' }, '← All my orders')),
    h('h1', {}, `Order ${id.slice(0, 8)}`),
    h('p', { class: 'hint' }, `Placed ${formatTime(order.createdAt)} · order id ${order.id}`),
    statusLine,
    outcomeLine,
    items,
    h('p', { class: 'total' }, 'Total: ', h('strong', {}, formatMoney(order.total))),
    actions,
    timeline,
  );
  update(order);
  await drawTimeline();
  // Followed in the background: the view is drawn, and its status line updates itself.
  if (order.status === 'PENDING') void follow();
}

/** The catalog names of these products; one that cannot be read is left out (it is shown by its id). */
async function productNames(ids, signal) {
  const found = await Promise.all(
    [...new Set(ids)].map((id) =>
      api.get(`/api/products/${encodeURIComponent(id)}`, { signal }).then(
        (product) => [id, product.name],
        () => undefined,
      ),
    ),
  );
  return new Map(found.filter(Boolean));
}

let lastError = '';
function announceOnce(error) {
  if (error?.message && error.message !== lastError) announce((lastError = error.message));
}

// ---- notifications ----

async function notificationsView(_match, _query, signal) {
  const list = h('ul', { class: 'feed', 'aria-label': 'Notifications, newest first' });
  const more = h('div', { class: 'pager' });
  const load = async (cursor) => {
    const params = new URLSearchParams({ limit: '20' });
    if (cursor) params.set('cursor', cursor);
    const page = await api.get(`/api/notifications?${params}`, { signal, auth: true });
    list.append(
      ...page.items.map((item) =>
        h(
          'li',
          {},
          h('p', {}, item.message),
          h(
            'p',
            { class: 'hint' },
            h('time', { datetime: item.createdAt }, formatTime(item.createdAt)),
            item.orderId
              ? [' · ', h('a', { href: `#/orders/${item.orderId}` }, `Order ${item.orderId.slice(0, 8)}`)]
              : null,
          ),
        ),
      ),
    );
    replace(
      more,
      page.nextCursor
        ? h(
            'button',
            { type: 'button', class: 'secondary', onclick: () => void load(page.nextCursor) },
            'Show older',
          )
        : null,
    );
    return page.items.length;
  };
  const first = await load('');
  show(
    'Notifications',
    h('h1', {}, 'Notifications'),
    first === 0 ? h('p', {}, 'No notifications yet.') : list,
    more,
  );
}

// ---- start ----

let lastSignedIn = api.session()?.user?.email ?? '';
const lastEmail = () => lastSignedIn;

api.onSessionChange((session, why) => {
  if (session?.user?.email) lastSignedIn = session.user.email;
  renderHeader();
  if (why === 'expired') askToSignInAgain(lastEmail());
  if (why === 'other-tab') void render();
});

window.addEventListener('hashchange', () => {
  // An in-page anchor (the skip link) moves focus by itself; only a path changes the view.
  if (!location.hash.startsWith('#/') && location.hash !== '') return;
  navigated = true;
  void render();
});
window.addEventListener('storage', (event) => {
  if (event.key === CART_KEY) renderHeader();
});
wireSignInAgain();
void render();
