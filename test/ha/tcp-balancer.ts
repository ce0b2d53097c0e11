/**
 * A TCP load balancer for tests, as an operator would put in front of the
 * peer API of several instances: each connection goes to the next backend
 * in turn; a backend that refuses the connection (a dead instance) is
 * skipped for that connection. Bytes are relayed untouched (mutual TLS
 * ends at the instance).
 */
import net from "node:net";

/** A running balancer. */
export interface TcpBalancer {
  readonly port: number;
  /** Connections relayed, by backend port. */
  readonly relayed: ReadonlyMap<number, number>;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: any) and relays to `backends` (ports on 127.0.0.1). */
export function startTcpBalancer(port: number, backends: readonly number[]): Promise<TcpBalancer> {
  let next = 0;
  const relayed = new Map<number, number>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.pause();
    const attempt = (tries: number): void => {
      if (tries >= backends.length) {
        client.destroy();
        return;
      }
      const backendPort = backends[next++ % backends.length]!;
      const upstream = net.connect(backendPort, "127.0.0.1");
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      let connected = false;
      upstream.on("error", () => {
        upstream.destroy();
        if (connected) client.destroy();
        else attempt(tries + 1); // refused: the next backend
      });
      upstream.once("connect", () => {
        connected = true;
        relayed.set(backendPort, (relayed.get(backendPort) ?? 0) + 1);
        client.on("error", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        relayed,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
