/**
 * Starting both gateways as their own processes (`valise start`), and
 * stopping them the way a service manager does (SIGTERM, expect exit 0).
 */
import { join } from "node:path";
import { expectThat } from "../check.js";
import { startGatewayProcess } from "../gateway-process.js";
import { LocalApiClient } from "../local-api-client.js";
import type { DemoStep } from "../scenario.js";

/** `valise start` for both homes; waits for each `gateway started` log line. */
export const startGateways: DemoStep = {
  title: "Both gateways start (valise start, one process each)",
  async run(state, report) {
    for (const authority of [state.gb, state.us]) {
      report.block([`$ VALISE_PASSPHRASE=… valise start --home ${authority.home}`]);
      const gateway = await startGatewayProcess({ home: authority.home, passphrase: state.passphrase, logFile: join(state.workdir, `${authority.id}.log`) });
      authority.gateway = gateway;
      authority.api = new LocalApiClient(gateway.started.localUrl);
      const health = await authority.api.get("/healthz", "");
      expectThat(health.status === 200, `${authority.id}'s /healthz answered ${health.status}`, gateway.logTail());
      report.ok(`${authority.id} is up (pid ${gateway.pid}): peer API ${gateway.started.peerUrl} (mutual TLS 1.3), local API ${gateway.started.localUrl}`);
    }
  },
};

/** SIGTERM to both gateways; each must finish its work and exit 0. */
export const stopGateways: DemoStep = {
  title: "Both gateways stop cleanly (SIGTERM)",
  async run(state, report) {
    for (const authority of [state.gb, state.us]) {
      const gateway = authority.gateway;
      expectThat(gateway !== undefined, `${authority.id}'s gateway was not running`);
      const exit = await gateway.stop();
      authority.gateway = undefined;
      authority.api = undefined;
      expectThat(exit.code === 0 && !exit.killed, `${authority.id}'s gateway exited with ${exit.killed ? "SIGKILL after a timeout" : `code ${String(exit.code)} signal ${String(exit.signal)}`}`, gateway.logTail());
      const stopped = gateway.logTail(5).some((line) => line.includes('"gateway stopped"'));
      expectThat(stopped, `${authority.id} did not log "gateway stopped"`, gateway.logTail());
      report.ok(`${authority.id} finished in-flight work, closed its database and exited 0`);
    }
  },
};
