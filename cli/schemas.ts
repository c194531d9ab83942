// Every service's whole configuration schema, built without starting the service: what the CLI validates against.
import { LOCAL_PORTS, configSchema, type ServiceName } from '@souk/chassis';
import { gatewayConfig } from '../services/gateway/src/gateway.config.ts';
import { settings as inventory } from '../services/inventory/src/app.ts';
import { settings as notifications } from '../services/notifications/src/app.ts';
import { settings as orders } from '../services/orders/src/app.ts';
import { settings as payments } from '../services/payments/src/app.ts';
import { settings as users } from '../services/users/src/app.ts';

const schemas = {
  gateway: configSchema('gateway', gatewayConfig),
  users: configSchema('users', users),
  orders: configSchema('orders', orders),
  payments: configSchema('payments', payments),
  inventory: configSchema('inventory', inventory),
  notifications: configSchema('notifications', notifications),
};

export const SERVICE_NAMES = Object.keys(LOCAL_PORTS) as ServiceName[];

export const isServiceName = (name: string): name is ServiceName => Object.hasOwn(LOCAL_PORTS, name);

export const configSchemaOf = <N extends ServiceName>(name: N): (typeof schemas)[N] => schemas[name];
