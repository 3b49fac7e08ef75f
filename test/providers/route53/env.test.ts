import { afterEach, describe, expect, it } from "vitest";
import { signal, startRig, type Rig } from "./harness.js";

const KEY = [{ name: "smtp.example.com", type: "A" as const }];

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

describe("Route 53 provider: environment (ctx.env, never process.env)", () => {
  it("signs with the access keys and session token from ctx.env", async () => {
    rig = await startRig();
    const p = await rig.provider({}, [], {}, { AWS_ACCESS_KEY_ID: "AKIDFROMCTX", AWS_SECRET_ACCESS_KEY: "s3cret", AWS_SESSION_TOKEN: "tok-1" });
    await p.read(KEY, signal());
    expect(rig.fake.log[0]).toMatchObject({ accessKeyId: "AKIDFROMCTX", sessionToken: "tok-1" });
  });

  it("uses AWS_ENDPOINT_URL_ROUTE_53 from ctx.env when the config names no endpoint", async () => {
    rig = await startRig();
    const p = await rig.provider({ endpoint: undefined }, [], {}, {
      AWS_ACCESS_KEY_ID: "AKIDTEST",
      AWS_SECRET_ACCESS_KEY: "x",
      AWS_ENDPOINT_URL_ROUTE_53: rig.fake.url,
    });
    await p.read(KEY, signal());
    expect(rig.fake.log).toHaveLength(1);
  });

  it("prefers the config's endpoint over the environment's", async () => {
    rig = await startRig();
    const p = await rig.provider({ endpoint: rig.fake.url }, [], {}, {
      AWS_ACCESS_KEY_ID: "AKIDTEST",
      AWS_SECRET_ACCESS_KEY: "x",
      AWS_ENDPOINT_URL_ROUTE_53: "http://127.0.0.1:9",
    });
    await p.read(KEY, signal());
    expect(rig.fake.log).toHaveLength(1);
  });
});
