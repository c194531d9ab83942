// The static upstream of `npm run bench:gateway`, run as its own process: a bare node:http server answering
// every GET /api/products/:id with the same product, and the users service's key set (from SOUK_BENCH_JWKS) at
// /.well-known/jwks.json, so the gateway can verify the bench's tokens. It does as little as a server can, so
// that the three targets differ only in what stands in front of it.
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
/** The size of the product's answer: at least its own, padded (its description) up to this many bytes. */
const bodyBytes = Number(process.argv[3] ?? 0);
const jwks = Buffer.from(process.env.SOUK_BENCH_JWKS ?? '{"keys":[]}');
const productWith = (description: string) =>
  Buffer.from(
    JSON.stringify({
      id: '5f0c6a4e-8f1d-4a57-9c1e-3f2b7d9e8a10',
      sku: 'LANTERN-1',
      name: 'Benchmark lantern',
      description,
      price: { amount: 1999, currency: 'USD' },
      stock: 1000,
      createdAt: '2026-12-01T00:00:00.000Z',
      updatedAt: '2026-12-01T00:00:00.000Z',
    }),
  );
const description = 'A lantern that lights the benchmark.';
const natural = productWith(description);
const product =
  bodyBytes > natural.length
    ? productWith(description.padEnd(description.length + bodyBytes - natural.length, '.'))
    : natural;
const json = (length: number) => ({ 'content-type': 'application/json', 'content-length': length });

createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
  if (request.url === '/.well-known/jwks.json') response.writeHead(200, json(jwks.length)).end(jwks);
  else if (request.url?.startsWith('/api/products/'))
    response.writeHead(200, json(product.length)).end(product);
  else response.writeHead(404, json(2)).end('{}');
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
