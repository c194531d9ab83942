// Products and their stock in PostgreSQL: the catalog's reads, an admin's writes, and restocking.
import { isUniqueViolation, type Queryable } from '@souk/chassis';
import type { CreateProduct, Product, UpdateProduct } from '@souk/contracts';
import type { CatalogPosition } from '../domain/catalog-page.model.ts';
import { accept, refuse, skuTaken, type Outcome } from '../domain/inventory.errors.ts';

interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  price_amount: number;
  price_currency: string;
  available: number;
}

const COLUMNS = 'id, sku, name, description, price_amount, price_currency, available';

export const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  sku: row.sku,
  name: row.name,
  description: row.description,
  price: { amount: row.price_amount, currency: row.price_currency },
  stock: { available: row.available },
});

/** The channel migration 003's trigger notifies with the id of each product whose price changed or that went. */
export const PRICES_CHANGED_CHANNEL = 'souk_prices';

export interface CatalogPageQuery {
  limit: number;
  after?: CatalogPosition | undefined;
  /** An ILIKE pattern, already escaped (see searchPattern). */
  pattern?: string | undefined;
}

export class ProductsRepository {
  readonly #db: Queryable;
  readonly #newId: () => string;

  constructor(db: Queryable, newId: () => string) {
    this.#db = db;
    this.#newId = newId;
  }

  async find(id: string): Promise<Product | undefined> {
    const { rows } = await this.#db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = $1`, [id]);
    return rows[0] && toProduct(rows[0]);
  }

  /** The prices of those of `ids` that exist, by product id, in one read. */
  async prices(ids: readonly string[]): Promise<Map<string, Product['price']>> {
    const { rows } = await this.#db.query<Pick<ProductRow, 'id' | 'price_amount' | 'price_currency'>>(
      'SELECT id, price_amount, price_currency FROM products WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, { amount: row.price_amount, currency: row.price_currency }]));
  }

  /** One page in (name, id) order; `next` is where the following page starts, absent on the last one. */
  async page(query: CatalogPageQuery): Promise<{ items: Product[]; next?: CatalogPosition }> {
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (query.pattern !== undefined) {
      values.push(query.pattern);
      const p = `$${values.length}`;
      conditions.push(
        `(name ILIKE ${p} ESCAPE '\\' OR sku ILIKE ${p} ESCAPE '\\' OR description ILIKE ${p} ESCAPE '\\')`,
      );
    }
    if (query.after !== undefined) {
      values.push(query.after.name, query.after.id);
      conditions.push(`(name, id) > ($${values.length - 1}, $${values.length}::uuid)`);
    }
    values.push(query.limit + 1);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const { rows } = await this.#db.query<ProductRow>(
      `SELECT ${COLUMNS} FROM products ${where} ORDER BY name, id LIMIT $${values.length}`,
      values,
    );
    const items = rows.slice(0, query.limit).map(toProduct);
    const last = items.at(-1);
    return rows.length > query.limit && last ? { items, next: { name: last.name, id: last.id } } : { items };
  }

  async create(input: CreateProduct): Promise<Outcome<Product>> {
    try {
      const { rows } = await this.#db.query<ProductRow>(
        `INSERT INTO products (id, sku, name, description, price_amount, price_currency, available)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [
          this.#newId(),
          input.sku,
          input.name,
          input.description,
          input.price.amount,
          input.price.currency,
          input.stock,
        ],
      );
      return accept(toProduct(rows[0]!));
    } catch (error) {
      if (isUniqueViolation(error, 'products_sku_key')) return refuse(skuTaken(input.sku));
      throw error;
    }
  }

  /** Applies the fields given; an empty patch leaves the product as it is. */
  async update(id: string, patch: UpdateProduct): Promise<Product | undefined> {
    const { rows } = await this.#db.query<ProductRow>(
      `UPDATE products SET
         name = COALESCE($2, name),
         description = COALESCE($3, description),
         price_amount = COALESCE($4, price_amount),
         price_currency = COALESCE($5, price_currency),
         updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, patch.name, patch.description, patch.price?.amount, patch.price?.currency],
    );
    return rows[0] && toProduct(rows[0]);
  }

  async restock(id: string, quantity: number): Promise<Product | undefined> {
    const { rows } = await this.#db.query<ProductRow>(
      `UPDATE products SET available = available + $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, quantity],
    );
    return rows[0] && toProduct(rows[0]);
  }
}
