// Trace and span ids drawn from a pooled random buffer. Drawing 8 or 16 random bytes per id (as the SDK's own
// generator and Node's randomBytes do) cost the gateway a tenth of its CPU in randomFillSync under load; one
// fill of a few kilobytes serves hundreds of ids.
import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

const POOL_BYTES = 8192;

export class PooledIdGenerator implements IdGenerator {
  readonly #pool = Buffer.allocUnsafe(POOL_BYTES);
  #offset = POOL_BYTES;

  generateTraceId(): string {
    return this.#draw(16);
  }

  generateSpanId(): string {
    return this.#draw(8);
  }

  /** `bytes` random bytes as lower-case hex; never all zeros, which W3C trace context reserves for "invalid". */
  #draw(bytes: number): string {
    for (;;) {
      if (this.#offset + bytes > POOL_BYTES) {
        randomFillSync(this.#pool);
        this.#offset = 0;
      }
      const start = this.#offset;
      this.#offset += bytes;
      for (let i = start; i < start + bytes; i++)
        if (this.#pool[i] !== 0) return this.#pool.toString('hex', start, start + bytes);
    }
  }
}
