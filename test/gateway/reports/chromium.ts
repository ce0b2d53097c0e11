/**
 * Renders an HTML file in headless Chromium and reports what the browser
 * saw: console errors, exceptions, failed loads, every network request, and
 * a full-page PNG screenshot. Speaks the DevTools protocol over a pipe
 * (`--remote-debugging-pipe`: JSON messages separated by NUL on file
 * descriptors 3 and 4), so it needs no WebSocket and no npm package.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Readable, Writable } from "node:stream";

/** Where Debian's chromium is (override with CHROMIUM); tests check it with requireTool (test/required-tools.ts). */
export const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";

/** What the browser saw. */
export interface Rendering {
  /** Console errors and warnings, uncaught exceptions, log entries of level error (CSP violations land here). */
  readonly problems: string[];
  /** Every URL the page asked for (the document itself included). */
  readonly requests: string[];
  /** The evaluated expression's value. */
  readonly evaluated: unknown;
  readonly screenshot: Buffer;
}

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, any>;
  result?: Record<string, any>;
  error?: { message: string };
  sessionId?: string;
}

/**
 * Opens `htmlFile` at `width`×`height`, waits for the load event, evaluates
 * `expression`, and captures the whole page.
 */
export async function renderInChromium(htmlFile: string, options: { width: number; height: number; expression: string; timeoutMs?: number }): Promise<Rendering> {
  const profile = mkdtempSync(join(tmpdir(), "valise-chromium-"));
  const child = spawn(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      "--remote-debugging-pipe",
      `--window-size=${options.width},${options.height}`,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
  );
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  const listeners: Array<(m: Message) => void> = [];
  let buffer = "";
  output.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    let end: number;
    while ((end = buffer.indexOf("\0")) >= 0) {
      const message = JSON.parse(buffer.slice(0, end)) as Message;
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined && pending.has(message.id)) {
        const waiter = pending.get(message.id)!;
        pending.delete(message.id);
        if (message.error !== undefined) waiter.reject(new Error(message.error.message));
        else waiter.resolve(message);
      } else {
        for (const listener of listeners) listener(message);
      }
    }
  });
  let nextId = 1;
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Message> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      input.write(`${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`);
    });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`chromium did not render within ${options.timeoutMs ?? 60_000} ms; stderr: ${stderr}`)), options.timeoutMs ?? 60_000);
    timer.unref();
  });
  const run = async (): Promise<Rendering> => {
    const problems: string[] = [];
    const requests: string[] = [];
    let loaded!: () => void;
    const load = new Promise<void>((resolve) => (loaded = resolve));
    listeners.push((m) => {
      const p = m.params ?? {};
      switch (m.method) {
        case "Runtime.consoleAPICalled":
          if (p["type"] === "error" || p["type"] === "warning" || p["type"] === "assert") {
            problems.push(`console.${String(p["type"])}: ${(p["args"] as Array<{ value?: unknown; description?: string }>).map((a) => a.value ?? a.description).join(" ")}`);
          }
          break;
        case "Runtime.exceptionThrown":
          problems.push(`exception: ${String(p["exceptionDetails"]?.exception?.description ?? p["exceptionDetails"]?.text)}`);
          break;
        case "Log.entryAdded":
          if (p["entry"]?.level === "error" || p["entry"]?.level === "warning") problems.push(`log ${String(p["entry"].source)}: ${String(p["entry"].text)}`);
          break;
        case "Network.requestWillBeSent":
          requests.push(String(p["request"]?.url));
          break;
        case "Network.loadingFailed":
          problems.push(`load failed: ${String(p["errorText"])}`);
          break;
        case "Page.loadEventFired":
          loaded();
          break;
      }
    });
    const target = await send("Target.createTarget", { url: "about:blank" });
    const attached = await send("Target.attachToTarget", { targetId: target.result!["targetId"], flatten: true });
    const session = attached.result!["sessionId"] as string;
    for (const domain of ["Runtime", "Log", "Page", "Network"]) await send(`${domain}.enable`, {}, session);
    await send("Emulation.setDeviceMetricsOverride", { width: options.width, height: options.height, deviceScaleFactor: 1, mobile: false }, session);
    await send("Page.navigate", { url: pathToFileURL(htmlFile).href }, session);
    await load;
    const evaluated = await send("Runtime.evaluate", { expression: options.expression, returnByValue: true }, session);
    const metrics = await send("Page.getLayoutMetrics", {}, session);
    const size = (metrics.result!["cssContentSize"] ?? metrics.result!["contentSize"]) as { width: number; height: number };
    const shot = await send(
      "Page.captureScreenshot",
      { format: "png", captureBeyondViewport: true, clip: { x: 0, y: 0, width: options.width, height: Math.ceil(size.height), scale: 1 } },
      session,
    );
    return { problems, requests, evaluated: evaluated.result!["result"]?.value, screenshot: Buffer.from(shot.result!["data"] as string, "base64") };
  };
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    try {
      input.write(`${JSON.stringify({ id: nextId++, method: "Browser.close" })}\0`);
    } catch {
      // the browser is gone already
    }
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(killer);
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Width and height of a PNG, from its IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(0, 8).toString("hex") !== "89504e470d0a1a0a") throw new Error("not a PNG");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
