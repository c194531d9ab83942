import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { INNER_SERVICES, SERVICE_NAMES, TOPOLOGY, localRegistry } from './topology.ts';

const root = new URL('../../', import.meta.url);

describe('the topology', () => {
  it('when read, then every entry names a folder with a main.ts, and one with migrations has a database', () => {
    for (const entry of TOPOLOGY) {
      assert.ok(existsSync(new URL(`services/${entry.name}/src/main.ts`, root)), entry.name);
      // The gateway owns a database with the chassis' tables only (the admin audit), so no folder of its own.
      if (existsSync(new URL(`services/${entry.name}/src/data/migrations`, root))) {
        assert.ok(entry.database, `${entry.name} has migrations but no database`);
      }
    }
  });

  it('when ports are listed, then no two services share one', () => {
    const ports = TOPOLOGY.flatMap((entry) => [entry.port, ...('grpcPort' in entry ? [entry.grpcPort] : [])]);
    assert.equal(new Set(ports).size, ports.length);
  });

  it('when the local address table is built with an offset, then every port moves and gRPC addresses ride along', () => {
    const table = localRegistry(10_000);
    assert.deepEqual(Object.keys(table), SERVICE_NAMES);
    assert.equal(table.orders?.url, 'http://127.0.0.1:15002');
    assert.equal(table.users?.grpcUrl, '127.0.0.1:60051');
    assert.equal(table.orders?.grpcUrl, undefined);
  });

  it('when the inner services are listed, then the gateway is not among them', () => {
    assert.ok(!(INNER_SERVICES as readonly string[]).includes('gateway'));
    assert.equal(INNER_SERVICES.length, SERVICE_NAMES.length - 1);
  });
});
