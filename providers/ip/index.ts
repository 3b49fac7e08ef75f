/**
 * IP takeover adapters by type. Loaded lazily: an exec user never imports the AWS SDK. Each
 * adapter's config schema lives in its own config.ts (zod only), used by the config loader.
 */
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

export async function createIpAdapter(config: IpAdapterConfig, ctx: IpAdapterContext): Promise<IpAdapter> {
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
