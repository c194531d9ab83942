// The inventory service as the order saga sees it: prices, and a reservation per order (id = order id).
import { IDENTITY_HEADER, type IdentitySigner, type UpstreamClient } from '@souk/chassis';
import { InventoryErrorCode, type Money, type PriceList } from '@souk/contracts';
import { callParticipant } from './participant-call.ts';

export interface InventoryParticipant {
  /** Current prices; a product that does not exist is missing from the map. */
  prices(productIds: readonly string[]): Promise<Map<string, Money>>;
  reserve(
    orderId: string,
    items: readonly { productId: string; quantity: number }[],
    idempotencyKey: string,
  ): Promise<void>;
  commit(orderId: string, idempotencyKey: string): Promise<void>;
  release(orderId: string, idempotencyKey: string): Promise<void>;
}

export function inventoryParticipant(
  upstream: UpstreamClient,
  identity: IdentitySigner,
  /** Read at each call (a live setting). */
  timeoutMs: () => number,
): InventoryParticipant {
  return {
    async prices(productIds) {
      // A read: safe to retry as any GET is, though it goes as a POST to carry the list.
      const response = await upstream.json<PriceList>({
        method: 'POST',
        path: '/internal/prices',
        body: { productIds },
        idempotent: true,
        headers: { [IDENTITY_HEADER]: identity.serviceCredential('orders') },
        timeoutMs: timeoutMs(),
      });
      if (response.status !== 200) throw new Error(`inventory answered ${response.status} to a price lookup`);
      return new Map(response.body.items.map((item) => [item.productId, item.price]));
    },
    async reserve(orderId, items, idempotencyKey) {
      await callParticipant(upstream, identity, {
        method: 'POST',
        path: '/internal/reservations',
        body: { reservationId: orderId, items },
        idempotencyKey,
        timeoutMs: timeoutMs(),
        rejections: {
          [InventoryErrorCode.InsufficientStock]: () => 'insufficient stock',
          [InventoryErrorCode.UnknownProduct]: () => 'a product is no longer sold',
          [InventoryErrorCode.ReservationReleased]: () => 'the reservation was released',
          [InventoryErrorCode.MixedCurrencies]: () => 'items are priced in different currencies',
        },
      });
    },
    async commit(orderId, idempotencyKey) {
      await callParticipant(upstream, identity, {
        method: 'POST',
        path: `/internal/reservations/${orderId}/commit`,
        idempotencyKey,
        timeoutMs: timeoutMs(),
        rejections: { [InventoryErrorCode.ReservationReleased]: () => 'the reservation was released' },
      });
    },
    async release(orderId, idempotencyKey) {
      await callParticipant(upstream, identity, {
        method: 'POST',
        path: `/internal/reservations/${orderId}/release`,
        idempotencyKey,
        timeoutMs: timeoutMs(),
      });
    },
  };
}
