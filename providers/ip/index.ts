/**
 * IP takeover adapters by type. Loaded lazily: an exec user never imports the AWS SDK. Each
 * adapter's config schema lives in its own config.ts (zod only), used by the config loader.
 */
import { createRedactor, secretValues, type Redactor } from "../../src/util/redact.js";
import type { MinimalLogger } from "../types.js";
import type { ElasticIpConfig } from "./elastic-ip/config.js";
import type { ExecIpConfig } from "./exec/config.js";
import type { IpAdapter } from "./types.js";

export type IpAdapterConfig = ExecIpConfig | ElasticIpConfig;

export interface IpAdapterContext {
  readonly name: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger?: MinimalLogger;
}

/** Every adapter's errors, notes and holder details pass the redactor the DNS providers use. */
export async function createIpAdapter(config: IpAdapterConfig, ctx: IpAdapterContext): Promise<IpAdapter> {
  const r = createRedactor(secretValues(config, ctx.env));
  try {
    return redactingIpAdapter(await build(config, ctx), r);
  } catch (e) {
    throw r.error(e);
  }
}

export function redactingIpAdapter(a: IpAdapter, r: Redactor): IpAdapter {
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      throw r.error(e);
    }
  };
  return {
    kind: a.kind,
    read: (targets, signal) => guard(async () => (await a.read(targets, signal)).map((h) => ({ ...h, detail: r.text(h.detail) }))),
    move: (move, signal) => guard(async () => ({ notes: (await a.move(move, signal)).notes.map(r.text) })),
    ...(a.close ? { close: () => guard(() => a.close!()) } : {}),
  };
}

async function build(config: IpAdapterConfig, ctx: IpAdapterContext): Promise<IpAdapter> {
  switch (config.type) {
    case "exec": {
      const { ExecIpAdapter } = await import("./exec/exec-adapter.js");
      return new ExecIpAdapter(config, { env: ctx.env });
    }
    case "elastic-ip": {
      const { createElasticIpAdapter } = await import("./elastic-ip/index.js");
      return createElasticIpAdapter(config, ctx);
    }
  }
}
