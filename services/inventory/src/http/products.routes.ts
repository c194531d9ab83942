// The public catalog: anyone browses and searches products; an admin adds, edits and restocks them.
import { adminsOnly, type App, orProblem, rejectionProblem, problemResponses } from '@souk/chassis';
import {
  CreateProduct,
  Product,
  ProductPage,
  ProductQuery,
  Restock,
  StrictObject,
  UpdateProduct,
} from '@souk/contracts';
import Type from 'typebox';
import {
  decodeCatalogCursor,
  encodeCatalogCursor,
  isUuid,
  searchPattern,
} from '../domain/catalog-page.model.ts';
import { invalidCursor, productNotFound } from '../domain/inventory.errors.ts';
import type { ProductsRepository } from '../data/products.repository.ts';

/** Any string: an id that is not a UUID names no product, so it is a 404 rather than a 400. */
const ProductParams = StrictObject({ id: Type.String() });

export function registerProductRoutes(app: App, products: ProductsRepository): void {
  const existing = <T>(id: string, product: T | undefined): T => {
    if (product === undefined) throw rejectionProblem(productNotFound(id));
    return product;
  };
  const knownId = (id: string): string => {
    if (!isUuid(id)) throw rejectionProblem(productNotFound(id));
    return id;
  };

  app.get(
    '/api/products',
    {
      schema: {
        summary: 'Browse or search the catalog, a page at a time',
        querystring: ProductQuery,
        response: { 200: ProductPage, ...problemResponses(400) },
      },
    },
    async (request) => {
      const { limit = 20, cursor, q } = request.query;
      const after = cursor === undefined ? undefined : decodeCatalogCursor(cursor);
      if (cursor !== undefined && after === undefined) throw rejectionProblem(invalidCursor());
      const page = await products.page({ limit, after, pattern: searchPattern(q) });
      return page.next === undefined
        ? { items: page.items }
        : { items: page.items, nextCursor: encodeCatalogCursor(page.next) };
    },
  );

  app.get(
    '/api/products/:id',
    {
      schema: {
        summary: 'One product',
        params: ProductParams,
        response: { 200: Product, ...problemResponses(404) },
      },
    },
    async (request) => existing(request.params.id, await products.find(knownId(request.params.id))),
  );

  app.post(
    '/api/products',
    {
      onRequest: adminsOnly,
      schema: {
        summary: 'Add a product (admin)',
        body: CreateProduct,
        response: { 201: Product, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(orProblem(await products.create(request.body))),
  );

  app.patch(
    '/api/products/:id',
    {
      onRequest: adminsOnly,
      schema: {
        summary: 'Change a product’s name, description or price (admin)',
        params: ProductParams,
        body: UpdateProduct,
        response: { 200: Product, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      existing(request.params.id, await products.update(knownId(request.params.id), request.body)),
  );

  app.post(
    '/api/products/:id/restock',
    {
      onRequest: adminsOnly,
      schema: {
        summary: 'Add units to a product’s available stock (admin)',
        params: ProductParams,
        body: Restock,
        response: { 200: Product, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      existing(request.params.id, await products.restock(knownId(request.params.id), request.body.quantity)),
  );
}
