// Ids that follow from what they identify (an order from its Idempotency-Key, a cancel saga from its order), so
// that a second attempt at making one collides with the first instead of making another.

/** A UUID shaped as version 5 (name-based, RFC 9562) from the first 128 bits of a hex digest. */
export function derivedUuid(hexDigest: string): string {
  const hex = hexDigest.toLowerCase();
  if (!/^[0-9a-f]{32,}$/.test(hex)) throw new Error('a derived UUID needs at least 128 bits of hex digest');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
