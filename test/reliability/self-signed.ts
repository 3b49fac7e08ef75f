/**
 * A self-signed leaf for mx1.example.net (and 127.0.0.1), made at test time with the openssl CLI
 * (test/fakes/certs.ts makes the CA-signed ones). Cached per test process.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { KeyPair } from "../fakes/certs.js";

const run = promisify(execFile);

async function make(): Promise<KeyPair> {
  const dir = mkdtempSync(join(tmpdir(), "mailpool-selfsigned-"));
  try {
    await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", "leaf.key", "-out", "leaf.crt", "-days", "30", "-subj", "/CN=mx1.example.net",
      "-addext", "subjectAltName=DNS:mx1.example.net,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"], { cwd: dir });
    return { key: readFileSync(join(dir, "leaf.key"), "utf8"), cert: readFileSync(join(dir, "leaf.crt"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let cached: Promise<KeyPair> | undefined;

export const selfSignedCert = (): Promise<KeyPair> => (cached ??= make());
