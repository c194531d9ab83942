// Every service's whole configuration schema, built without starting the service: what the CLI validates against.
// The services come from the supervisor's topology; each one's app.ts exports its own `settings`.
import { configSchema } from '@souk/chassis';
import { SERVICE_NAMES, isServiceName, type ServiceName } from '@souk/supervisor/topology';
import type { TObject, TProperties } from 'typebox';

const schemas = new Map<ServiceName, TObject>(
  await Promise.all(
    SERVICE_NAMES.map(async (name) => {
      const app = (await import(new URL(`../services/${name}/src/app.ts`, import.meta.url).href)) as {
        settings?: TProperties;
      };
      return [name, configSchema(app.settings)] as const;
    }),
  ),
);

export { SERVICE_NAMES, isServiceName, type ServiceName };

export const configSchemaOf = (name: ServiceName): TObject => schemas.get(name)!;
