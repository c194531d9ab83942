// The image's HEALTHCHECK: healthy while this container's service answers /health/ready (dependencies up, not
// draining), so that compose's `service_healthy` waits for a service that can serve, not one that merely runs.
const port = process.env.SOUK__HTTP__PORT ?? '8080';
try {
  const response = await fetch(`http://127.0.0.1:${port}/health/ready`, {
    signal: AbortSignal.timeout(3000),
  });
  process.exitCode = response.ok ? 0 : 1;
} catch {
  process.exitCode = 1;
}
