import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { skipWithoutRabbitMq } from './testing.ts';

/** A URL where nothing listens: a port taken from the OS and given back. */
async function silentAmqpUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `amqp://guest:guest@127.0.0.1:${port}`;
}

describe('skipWithoutRabbitMq', () => {
  it('when no broker answers, then the reason is one line naming where it looked', async () => {
    const url = await silentAmqpUrl();
    const reason = await skipWithoutRabbitMq(url, {});
    assert.equal(
      reason,
      `RabbitMQ is not answering on ${new URL(url).host} (start it, or set SOUK_TEST_AMQP_URL)`,
    );
  });

  it('when no broker answers under CI=true, then it fails with that line instead of skipping', async () => {
    await assert.rejects(
      skipWithoutRabbitMq(await silentAmqpUrl(), { CI: 'true' }),
      /RabbitMQ is not answering on .*CI=true/,
    );
  });

  it('when something answers, then there is no reason to skip', async () => {
    const server = createServer((socket) => socket.end()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    try {
      assert.equal(await skipWithoutRabbitMq(`amqp://127.0.0.1:${port}`, {}), undefined);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
