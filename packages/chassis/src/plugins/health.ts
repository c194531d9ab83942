// The health plugin: liveness, readiness and info routes; the other plugins add the checks of what they open.
import { Health, type InstanceInfo } from '../health.ts';
import type { App } from './http.ts';

export function healthPlugin(app: App, info: Pick<InstanceInfo, 'service' | 'version'>): Health {
  const health = new Health({ ...info, startedAt: new Date() });
  health.routes(app);
  return health;
}
