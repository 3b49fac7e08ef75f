/**
 * A TCP listener whose accept queue is full, so that the kernel drops new SYNs and a connect
 * neither succeeds nor is refused: the only way to make a connect timeout on loopback. A worker
 * thread listens with a backlog of 1 and blocks, never accepting; fillers take the queue.
 */
import { connect, type Socket } from "node:net";
import { Worker } from "node:worker_threads";

const WORKER = `
const { workerData, parentPort } = require("node:worker_threads");
const server = require("node:net").createServer();
server.listen({ host: workerData.host, port: 0, backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(workerData.stop), 0, 0); // block: connections are never accepted
  process.exit(0);
});
`;

export interface UnacceptingListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const tryConnect = (host: string, port: number, ms: number): Promise<Socket | undefined> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.on("error", () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });

export async function startUnacceptingListener(host = "127.0.0.1"): Promise<UnacceptingListener> {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER, { eval: true, workerData: { host, stop } });
  const port = await new Promise<number>((resolve, reject) => worker.once("message", resolve).once("error", reject));
  const fillers: Socket[] = [];
  // Fill the accept queue until a connect hangs (Linux: backlog + 1 connections).
  for (let socket = await tryConnect(host, port, 300); socket; socket = await tryConnect(host, port, 300)) {
    fillers.push(socket);
    if (fillers.length > 16) throw new Error("the accept queue never filled up");
  }
  return {
    host,
    port,
    async close() {
      for (const socket of fillers) socket.destroy();
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      Atomics.store(new Int32Array(stop), 0, 1);
      Atomics.notify(new Int32Array(stop), 0);
      await exited;
    },
  };
}
