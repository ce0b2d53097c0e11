/**
 * Free loopback ports, found by binding port 0, reading the port the kernel
 * chose, and closing. A gateway home derives its local API port from its
 * peer port (`peer + 1`, see gateway/config/config.ts), so the demo asks for
 * a port whose successor is free as well.
 */
import net from "node:net";

function bind(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A loopback port `p` such that `p` and `p + 1` were both free a moment ago.
 * Another process may still take them before the gateway binds; the gateway
 * then fails to start with a clear error, and the demo says so.
 */
export async function freePortPair(attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i += 1) {
    const first = await bind(0);
    if (first === undefined) continue;
    const port = (first.address() as net.AddressInfo).port;
    const second = port < 65535 ? await bind(port + 1) : undefined;
    await close(first);
    if (second !== undefined) {
      await close(second);
      return port;
    }
  }
  throw new Error("could not find two consecutive free loopback ports");
}
