// A throwaway etcd for the config tests: its own data folder and free ports, gone when the test ends.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestEtcd {
  readonly endpoint: string;
  /** Kills etcd, keeping its data, and starts it again on the same port once `whileDown` has run. */
  restart(whileDown: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });

export async function startEtcdForConfigTests(): Promise<TestEtcd> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'souk-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const launch = async () => {
    const child = spawn(
      'etcd',
      [
        '--name=test',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${endpoint}`,
        `--advertise-client-urls=${endpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=test=${peer}`,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const kill = async () => {
      child.kill('SIGKILL');
      await exited;
    };
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const response = await fetch(`${endpoint}/health`);
        if (response.ok) return kill;
      } catch {
        // Not listening yet.
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        await kill();
        throw new Error(`etcd did not start on ${endpoint}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  let kill = await launch().catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    endpoint,
    async restart(whileDown) {
      await kill();
      await whileDown();
      kill = await launch();
    },
    async stop() {
      await kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
