// Containers reach this machine as host.docker.internal (the Docker bridge's address), but the engines here
// listen on loopback only. This forwards TCP from the bridge's address to the same port on 127.0.0.1, for
// deploy/compose/host-engines.yaml; test:deploy runs it in-process. By hand, until Ctrl-C:
//   npx node deploy/compose/engine-forward.ts [bridge address, default 172.17.0.1] [ports, default 5432 5672 6379 2379]
import net from 'node:net';

export interface Forwarder {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on address:port and pipes each connection to 127.0.0.1:port. */
export async function forwardToLoopback(address: string, port: number): Promise<Forwarder> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((incoming) => {
    const outgoing = net.connect({ host: '127.0.0.1', port });
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    // Either side failing or ending ends both, so neither the client nor the engine keeps a half-open socket.
    incoming.once('error', () => outgoing.destroy());
    outgoing.once('error', () => incoming.destroy());
    incoming.pipe(outgoing).pipe(incoming);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

if (import.meta.main) {
  const [address = '172.17.0.1', ...given] = process.argv.slice(2);
  const ports = given.length > 0 ? given.map(Number) : [5432, 5672, 6379, 2379];
  const forwarders = await Promise.all(ports.map((port) => forwardToLoopback(address, port)));
  console.log(`Forwarding ${address}:{${ports.join(',')}} to 127.0.0.1; Ctrl-C to stop.`);
  process.once('SIGINT', () => void Promise.all(forwarders.map((forwarder) => forwarder.close())));
}
