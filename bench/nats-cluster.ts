import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import getPort from 'get-port';
import { findNatsServer } from '../infra/src/nats-server.js';
import { stopChild } from '../infra/src/processes.js';

/** One node of a local cluster: its name, client URL and process (null while it is down). */
export type ClusterNode = { name: string; port: number; url: string; process: ChildProcess | null };

export type NatsCluster = {
  nodes: ClusterNode[];
  /** Every node's client URL, comma-separated (NATS_URL). */
  url: string;
  kill: (name: string) => void;
  /** Starts a killed node again on its store; resolves when it says it is ready. */
  restart: (name: string) => Promise<void>;
  stop: () => Promise<void>;
};

/**
 * A JetStream cluster of `size` nats-server processes on loopback (routes between them), each with
 * its own store under `dir`, for R3 streams. Resolves once every node is ready.
 */
export async function startNatsCluster(dir: string, size = 3): Promise<NatsCluster> {
  const binary = await findNatsServer();
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await getPort(), route: await getPort() })));
  const nodes: ClusterNode[] = ports.map((p, i) => ({
    name: `n${i + 1}`,
    port: p.client,
    url: `nats://127.0.0.1:${p.client}`,
    process: null,
  }));
  const confOf = async (i: number) => {
    const store = join(dir, `n${i + 1}`);
    await mkdir(store, { recursive: true });
    const routes = ports.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p.route}`);
    const conf = join(dir, `n${i + 1}.conf`);
    await writeFile(
      conf,
      [
        `server_name: n${i + 1}`,
        `listen: 127.0.0.1:${ports[i]!.client}`,
        'max_payload: 8MB',
        `jetstream { store_dir: "${store}", max_memory_store: 256MB, max_file_store: 20GB }`,
        `cluster { name: oncall-chaos, listen: 127.0.0.1:${ports[i]!.route}, routes: [${routes.join(', ')}] }`,
      ].join('\n'),
    );
    return conf;
  };
  const start = async (i: number) => {
    const child = spawn(binary, ['-c', await confOf(i)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Server is ready')) resolve();
      };
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`nats-server n${i + 1} exited with ${code}:\n${output.slice(-2000)}`)));
    });
    child.stderr.resume();
    child.stdout.resume();
    nodes[i]!.process = child;
  };
  await Promise.all(nodes.map((_, i) => start(i)));
  const indexOf = (name: string) => {
    const i = nodes.findIndex((n) => n.name === name);
    if (i < 0) throw new Error(`no node ${name}`);
    return i;
  };
  return {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    kill: (name) => {
      const node = nodes[indexOf(name)]!;
      node.process?.kill('SIGKILL');
      node.process = null;
    },
    restart: (name) => start(indexOf(name)),
    stop: async () => {
      await Promise.all(nodes.flatMap((n) => (n.process ? [stopChild(n.process, 'SIGTERM', 5000)] : [])));
    },
  };
}
