/**
 * Wiring of one config into the things a cycle needs: provider instances (created lazily, once),
 * the bounded probe runner, the logger. Everything with a side effect is built here and passed in.
 */
import { createIpAdapter } from "../../providers/ip/index.js";
import type { IpAdapter } from "../../providers/ip/types.js";
import { createProvider } from "../../providers/index.js";
import { providerPoolOf } from "../../providers/registry.js";
import type { MinimalLogger, Provider } from "../../providers/types.js";
import type { Config } from "../config/load.js";
import type { ProbeFn } from "../health/probe-round.js";
import { createProbeRunner } from "../probes/index.js";
import { createThreadedProbeRunner, probeWorkersAvailable } from "../probes/threads.js";
import type { CycleDeps } from "./cycle.js";

export interface Runtime extends CycleDeps {
  readonly ipAdapter: (name: string) => Promise<IpAdapter>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly probe?: ProbeFn;
  readonly providers?: ReadonlyMap<string, Provider>;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Wraps every provider instance (the daemon counts calls and gates applies on leadership). */
  readonly wrapProvider?: (name: string, provider: Provider) => Provider;
  /** The clock of the changeWindow rule; default the system clock. */
  readonly now?: () => Date;
  /** IP takeover adapters by block name, instead of building them from the config (tests). */
  readonly ipAdapters?: ReadonlyMap<string, IpAdapter>;
}

export function createRuntime(config: Config, logger: MinimalLogger, options: RuntimeOptions = {}): Runtime {
  const instances = new Map<string, Promise<Provider>>();
  const provider = (name: string): Promise<Provider> => {
    const wrap = (p: Provider) => (options.wrapProvider ? options.wrapProvider(name, p) : p);
    const given = options.providers?.get(name);
    if (given) return Promise.resolve(wrap(given));
    let p = instances.get(name);
    if (!p) {
      const block = config.providers[name];
      if (!block) return Promise.reject(new Error(`provider ${name} is not configured`));
      p = createProvider(block, {
        name,
        controllerId: config.controllerId,
        pools: config.pools.filter((x) => x.provider === name).map((x) => providerPoolOf(x, block.type)),
        env: options.env ?? process.env,
        logger,
      }).then(wrap);
      // A failed creation (zone not found, bad credentials) is retried next cycle.
      p.catch(() => instances.delete(name));
      instances.set(name, p);
    }
    return p;
  };
  const ipInstances = new Map<string, Promise<IpAdapter>>();
  const ipAdapter = (name: string): Promise<IpAdapter> => {
    const given = options.ipAdapters?.get(name);
    if (given) return Promise.resolve(given);
    let a = ipInstances.get(name);
    if (!a) {
      const block = config.ipTakeover[name];
      if (!block) return Promise.reject(new Error(`ipTakeover ${name} is not configured`));
      a = createIpAdapter(block, { name, env: options.env ?? process.env, logger });
      a.catch(() => ipInstances.delete(name));
      ipInstances.set(name, a);
    }
    return a;
  };
  const probe = options.probe ?? probeRunnerFor(config, logger);
  return {
    config,
    provider,
    ipAdapter,
    probe,
    logger,
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.now ? { now: options.now } : {}),
    async close() {
      await Promise.all(
        [...instances.values()].map(async (p) => {
          try {
            await (await p).close?.();
          } catch {
            // already reported when it failed
          }
        }),
      );
      instances.clear();
      for (const a of ipInstances.values()) await a.then((x) => x.close?.(), () => undefined);
      ipInstances.clear();
      if (probe !== options.probe) await (probe as { close?: () => Promise<void> }).close?.();
    },
  };
}

/**
 * The config's probe runner: on the main thread, or with `probeThreads` > 1 on the main thread
 * and worker threads. Running from the TypeScript sources there is no built worker script: an
 * error, not a quiet fallback.
 */
function probeRunnerFor(config: Config, logger: MinimalLogger): ProbeFn & { close?: () => Promise<void> } {
  const threads = config.probeThreads;
  if (threads === 1) return createProbeRunner({ concurrency: config.concurrency });
  if (!probeWorkersAvailable()) throw new Error(`probeThreads: ${threads} needs the built worker script (npm run build); it is missing beside ${import.meta.url}`);
  logger.debug({ threads }, "probing on worker threads");
  return createThreadedProbeRunner({ concurrency: config.concurrency, threads });
}
