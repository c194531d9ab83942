// The pages people open (the storefront, the ops console): plain files from the web folder, served by the
// gateway beside the API, so a page calls /api on its own origin. No build step: the files on disk are the site.
import { readdir } from 'node:fs/promises';
import fastifyStatic from '@fastify/static';
import type { App } from '@souk/chassis';
import type { FastifyReply } from 'fastify';

/** Where `/` leads: the storefront. */
export const HOME_PAGE = '/store/';

/**
 * Sent with every page and file. The policy lets a page load only this origin's files and call only this
 * origin's API, so nothing outside ever loads, and no other site can frame it.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Files keep their names from one version to the next (no build, no hashes in names), so a browser must
  // revalidate each one; its ETag makes an unchanged file a 304 with no body.
  'cache-control': 'no-cache',
};

/**
 * Serves each subfolder of `root` at `/<subfolder>/` (index.html for the folder itself) and sends `/` to the
 * storefront. A missing file under a page folder gets a small HTML 404 page; every other path stays the API's.
 */
export async function registerWebPages(app: App, root: string): Promise<string[]> {
  const folders = await pageFolders(root);
  if (folders === undefined) {
    app.log.warn({ root }, 'no web folder: the gateway serves the API without pages');
    return [];
  }
  for (const folder of folders) {
    const prefix = `/${folder}`;
    app.get(prefix, { schema: { hide: true } }, (_request, reply) => reply.redirect(`${prefix}/`, 301));
    await app.register(
      async (pages) => {
        pages.addHook('onRequest', async (request) => {
          // One metrics series per folder, not one per file.
          request.metricsRoute = `${prefix}/`;
        });
        pages.setNotFoundHandler((request, reply) => sendMissingPage(reply, request.url));
        await pages.register(fastifyStatic, {
          root: `${root.replace(/\/$/, '')}/${folder}`,
          prefix: '/',
          decorateReply: false,
          schemaHide: true,
          index: ['index.html'],
          dotfiles: 'ignore',
          cacheControl: false,
          setHeaders: (reply, file) => {
            void reply.headers(PAGE_HEADERS);
            // RFC 9239 names text/javascript; the mime table still says application/javascript.
            if (file.endsWith('.js')) void reply.type('text/javascript; charset=utf-8');
          },
        });
      },
      { prefix },
    );
  }
  if (folders.includes(HOME_PAGE.slice(1, -1))) {
    app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect(HOME_PAGE, 302));
  }
  return folders;
}

/** The page folders under root, or undefined when root is not a folder. Dot-folders are never served. */
async function pageFolders(root: string): Promise<string[] | undefined> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function sendMissingPage(reply: FastifyReply, url: string): FastifyReply {
  const path = url.split('?')[0]!.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return reply
    .code(404)
    .headers({ ...PAGE_HEADERS, 'cache-control': 'no-store' })
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Page not found · Souk</title>` +
        `<link rel="icon" href="data:,"></head><body><main><h1>Page not found</h1>` +
        `<p>There is no page at <code>${path}</code>.</p><p><a href="${HOME_PAGE}">Go to the shop</a></p>` +
        `</main></body></html>\n`,
    );
}
