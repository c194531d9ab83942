// The health plugin: liveness and readiness routes; the other plugins add the checks of what they open.
import { Health } from '../health.ts';
import type { App } from './http.ts';

export function healthPlugin(app: App): Health {
  const health = new Health();
  health.routes(app);
  return health;
}
