// The demo catalog the local profile starts with, so a fresh shop has something to sell.
import { withTransaction, type Pool } from '@souk/chassis';

interface DemoProduct {
  sku: string;
  name: string;
  description: string;
  /** US cents. */
  price: number;
  stock: number;
}

export const DEMO_CATALOG: readonly DemoProduct[] = [
  {
    sku: 'RUG-BERBER-01',
    name: 'Hand-woven Berber Rug',
    description:
      'A 120 × 180 cm wool rug from the Middle Atlas, knotted by hand in an ivory diamond pattern.',
    price: 34900,
    stock: 20,
  },
  {
    sku: 'LAMP-BRASS-02',
    name: 'Pierced Brass Lantern',
    description:
      'A hanging lantern whose star-pierced shade throws patterns across the room. E14 bulb fitting.',
    price: 8900,
    stock: 45,
  },
  {
    sku: 'OIL-ARGAN-100',
    name: 'Cold-pressed Argan Oil, 100 ml',
    description: 'Pure cosmetic argan oil from a women-run cooperative near Essaouira.',
    price: 2400,
    stock: 180,
  },
  {
    sku: 'TAGINE-CLAY-28',
    name: 'Glazed Clay Tagine, 28 cm',
    description: 'A cooking tagine for the stove or oven, glazed inside, hand-painted lid.',
    price: 5900,
    stock: 60,
  },
  {
    sku: 'GLASS-TEA-6',
    name: 'Mint Tea Glasses, Set of 6',
    description: 'Gold-rimmed glasses for pouring mint tea from a height, as it should be.',
    price: 2900,
    stock: 120,
  },
  {
    sku: 'POUF-LEATHER-03',
    name: 'Embroidered Leather Pouf',
    description: 'A goatskin floor cushion stitched by hand in Marrakesh; shipped unstuffed.',
    price: 12900,
    stock: 35,
  },
  {
    sku: 'SPICE-SAFFRON-2G',
    name: 'Taliouine Saffron, 2 g',
    description: 'Category I saffron threads from the Souss valley, in a sealed glass vial.',
    price: 1800,
    stock: 200,
  },
  {
    sku: 'SPICE-RAS-150',
    name: 'Ras el Hanout Spice Blend, 150 g',
    description: 'A warm blend of twenty-one spices, ground the week it ships.',
    price: 1200,
    stock: 150,
  },
  {
    sku: 'BOWL-OLIVE-30',
    name: 'Olive Wood Salad Bowl',
    description: 'Turned from a single piece of olive wood; finish with food-safe oil now and then.',
    price: 4500,
    stock: 50,
  },
  {
    sku: 'POT-COPPER-01',
    name: 'Hammered Copper Teapot',
    description: 'A one-litre teapot with a tin-lined interior and a heat-proof handle.',
    price: 6900,
    stock: 40,
  },
  {
    sku: 'SHOE-BABOUCHE-YL',
    name: 'Yellow Leather Babouches',
    description: 'Soft slip-on slippers of vegetable-tanned leather; order your usual size.',
    price: 3900,
    stock: 90,
  },
  {
    sku: 'TOWEL-HAMMAM-02',
    name: 'Striped Hammam Towel',
    description: 'A light, quick-drying cotton fouta, 100 × 180 cm, with hand-knotted fringes.',
    price: 2200,
    stock: 140,
  },
  {
    sku: 'SOAP-BELDI-250',
    name: 'Savon Beldi Black Soap, 250 g',
    description: 'Olive-based black soap for the hammam, scented with eucalyptus.',
    price: 1400,
    stock: 160,
  },
  {
    sku: 'WATER-ROSE-250',
    name: "Rose Water from Kelaat M'Gouna, 250 ml",
    description: 'Steam-distilled Damask rose water for the kitchen or the skin.',
    price: 1100,
    stock: 110,
  },
  {
    sku: 'BOX-CEDAR-01',
    name: 'Inlaid Cedarwood Jewellery Box',
    description: 'Thuya and cedar marquetry with a lemonwood inlay and a velvet-lined tray.',
    price: 5400,
    stock: 30,
  },
  {
    sku: 'CUSHION-EMB-45',
    name: 'Embroidered Cushion Cover, 45 cm',
    description: 'Cotton cover with Fes-style cross-stitch embroidery; insert not included.',
    price: 3200,
    stock: 75,
  },
  {
    sku: 'PENDANT-KHAMSA',
    name: 'Silver Khamsa Pendant',
    description: 'A sterling silver hand of Fatima on a 45 cm chain.',
    price: 7900,
    stock: 25,
  },
  {
    sku: 'DATES-MEDJOOL-1K',
    name: 'Medjool Dates, 1 kg',
    description: "Large, soft Medjool dates from the Tafilalet oasis, this season's harvest.",
    price: 1900,
    stock: 100,
  },
  {
    sku: 'COASTER-ZELLIGE-4',
    name: 'Zellige Tile Coasters, Set of 4',
    description: 'Hand-cut glazed terracotta mosaics set in a cork base.',
    price: 2600,
    stock: 85,
  },
  {
    sku: 'BLANKET-HANDIRA',
    name: 'Handira Wedding Blanket',
    description: 'A woven wool blanket sewn with silver sequins, made to be a throw or a wall hanging.',
    price: 18900,
    stock: 22,
  },
];

/**
 * Adds the demo catalog when the shop has no products yet; returns how many it added. Instances that start
 * together take turns on an advisory lock, and an SKU already present is skipped, so any number of starts
 * seed it once.
 */
export async function seedDemoCatalog(pool: Pool, newId: () => string): Promise<number> {
  return withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['inventory.demo-catalog']);
    const { rows } = await tx.query<{ empty: boolean }>(
      'SELECT NOT EXISTS (SELECT 1 FROM products) AS empty',
    );
    if (!rows[0]?.empty) return 0;
    const inserted = await tx.query(
      `INSERT INTO products (id, sku, name, description, price_amount, price_currency, available)
       SELECT t.id, t.sku, t.name, t.description, t.price, 'USD', t.stock
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
         AS t (id, sku, name, description, price, stock)
       ON CONFLICT (lower(sku)) DO NOTHING`,
      [
        DEMO_CATALOG.map(() => newId()),
        DEMO_CATALOG.map((product) => product.sku),
        DEMO_CATALOG.map((product) => product.name),
        DEMO_CATALOG.map((product) => product.description),
        DEMO_CATALOG.map((product) => product.price),
        DEMO_CATALOG.map((product) => product.stock),
      ],
    );
    return inserted.rowCount ?? 0;
  });
}
