// Every metric the alert rules and the Grafana dashboard query is one the services really export: the six
// services are built in-process on throwaway databases (with a message transport, as deployed), their metric
// registries are listed, and every PromQL expression is parsed with Prometheus' own grammar for its selectors.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import type { Service } from '@souk/chassis';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import { buildGateway } from '@souk/gateway';
import { buildInventory } from '@souk/inventory';
import { buildNotifications } from '@souk/notifications';
import { buildOrders } from '@souk/orders';
import { buildPayments } from '@souk/payments';
import { buildUsers } from '@souk/users';
import { parse as parseYaml } from 'yaml';

/** Series Prometheus adds itself to every scrape. */
const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

/** The names a registered metric appears under on /metrics. */
const seriesNames = (name: string, type: string) =>
  type === 'histogram'
    ? [`${name}_bucket`, `${name}_sum`, `${name}_count`]
    : type === 'summary'
      ? [name, `${name}_sum`, `${name}_count`]
      : [name];

/** The metric names an expression selects; Grafana's variables are replaced so that it parses as PromQL. */
function selectedMetrics(expression: string): string[] {
  const promql = expression.replaceAll(/\$__(rate_interval|interval|range)/g, '5m');
  const tree = parser.parse(promql);
  const names: string[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) assert.fail(`not valid PromQL at ${cursor.from}: ${promql}`);
    if (cursor.type.name === 'VectorSelector') {
      const identifier = cursor.node.getChild('Identifier');
      if (identifier !== null) names.push(promql.slice(identifier.from, identifier.to));
      else assert.fail(`a selector without a metric name: ${promql}`);
    }
  } while (cursor.next());
  assert.ok(names.length > 0, `selects no metric: ${promql}`);
  return names;
}

interface DashboardPanel {
  title: string;
  targets?: { expr: string }[];
  panels?: DashboardPanel[];
}

async function queries(): Promise<{ where: string; expression: string }[]> {
  const rules = parseYaml(await readFile(new URL('prometheus/rules.yml', import.meta.url), 'utf8')) as {
    groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  const dashboard = JSON.parse(await readFile(new URL('grafana/souk.json', import.meta.url), 'utf8')) as {
    panels: DashboardPanel[];
    templating: { list: { name: string; definition?: string }[] };
  };
  const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  return [
    ...rules.groups.flatMap((group) =>
      group.rules.map((rule) => ({ where: `rule ${rule.alert ?? rule.record}`, expression: rule.expr })),
    ),
    ...panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expression: target.expr })),
    ),
    ...dashboard.templating.list.flatMap((variable) =>
      variable.definition === undefined
        ? []
        : [
            {
              where: `variable ${variable.name}`,
              expression: variable.definition.replace(/^label_values\((.+), \w+\)$/, '$1'),
            },
          ],
    ),
  ];
}

describe('metrics queried by the alerts and the dashboard', () => {
  const databases: TestDatabase[] = [];
  const services: Pick<Service<unknown>, 'name' | 'metrics' | 'stop'>[] = [];
  const exported = new Map<string, Set<string>>();

  before(async () => {
    const env = async (label: string) => {
      const database = await createTestDatabase(`metrics_${label}`);
      databases.push(database);
      // A bus address makes each service create its transport and register its metrics; nothing connects to it.
      return {
        ...testEnvironment(database.url),
        SOUK__MESSAGING__BUS_URL: 'postgres://127.0.0.1:1/bus',
        SOUK__GRPC__PORT: '0',
      };
    };
    services.push(await buildGateway({ env: testEnvironment() }));
    services.push(await buildUsers({ env: await env('users') }));
    services.push(await buildOrders({ env: await env('orders') }));
    services.push(await buildPayments({ env: await env('payments') }));
    services.push(await buildInventory({ env: await env('inventory') }));
    services.push((await buildNotifications({ env: await env('notifications') })).service);
    for (const service of services) {
      for (const metric of service.metrics.getMetricsAsArray()) {
        for (const name of seriesNames(metric.name, String(metric.type))) {
          if (!exported.has(name)) exported.set(name, new Set());
          exported.get(name)!.add(service.name);
        }
      }
    }
  });

  after(async () => {
    for (const service of services.toReversed()) await service.stop();
    await Promise.all(databases.map((database) => database.drop()));
  });

  it('when every query is parsed, then each metric it selects is exported by some service', async () => {
    const missing: string[] = [];
    const all = await queries();
    assert.ok(all.length > 20, 'the rules and the dashboard have queries');
    for (const { where, expression } of all)
      for (const name of selectedMetrics(expression))
        if (!exported.has(name) && !SCRAPE_SERIES.includes(name)) missing.push(`${where}: ${name}`);
    assert.deepEqual(missing, []);
  });

  it('when the business and operations metrics are looked up, then the service that owns each exports it', () => {
    const owners: Record<string, string> = {
      orders_placed_total: 'orders',
      orders_confirmed_total: 'orders',
      orders_cancelled_total: 'orders',
      saga_duration_seconds_bucket: 'orders',
      saga_past_deadline: 'orders',
      outbox_lag_seconds: 'payments',
      messaging_dead_letters: 'notifications',
      upstream_circuit_open: 'gateway',
      registry_instances: 'inventory',
      http_server_request_duration_seconds_count: 'users',
    };
    for (const [name, owner] of Object.entries(owners))
      assert.ok(exported.get(name)?.has(owner), `${owner} exports ${name}`);
  });

  it('when a query names a metric nobody exports, then the parse finds it', () => {
    assert.deepEqual(
      selectedMetrics(
        'sum by (service) (rate(souk_no_such_total{service=~"$service"}[$__rate_interval])) / on (service) up',
      ),
      ['souk_no_such_total', 'up'],
    );
  });
});
