/**
 * Certificates for the real servers, made at test time with the openssl CLI into a folder the
 * caller owns: a CA and one server certificate it signed for the given names and 127.0.0.x
 * addresses, plus a second, unrelated CA that signed nothing the servers use ("the wrong CA").
 * (test/fakes/certs.ts makes a leaf for mx1.example.net and 127.0.0.1 only; the servers here
 * need the pool names and their own addresses.)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireBinary, runCommand } from "./server-process.js";

export interface IntegrationPki {
  /** PEM file and text of the CA that signed the server certificate. */
  readonly caFile: string;
  readonly caPem: string;
  /** Server certificate and key files (PEM), as the servers' configs name them. */
  readonly certFile: string;
  readonly keyFile: string;
  /** A CA that signed nothing here: trusting only it must fail verification. */
  readonly otherCaFile: string;
  readonly otherCaPem: string;
}

export interface PkiNames {
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
}

/** Writes the CA, the server certificate (valid from yesterday for 30 days) and the other CA into `dir`. */
export async function makeIntegrationPki(dir: string, names: PkiNames): Promise<IntegrationPki> {
  const openssl = requireBinary("openssl", "openssl");
  const run = async (...args: string[]) => {
    const result = await runCommand(openssl, args, 30_000);
    if (result.code !== 0) throw new Error(`openssl ${args.join(" ")} failed (${result.code}): ${result.stderr.trim()}`);
  };
  const file = (name: string) => join(dir, name);
  const san = [...names.dnsNames.map((n) => `DNS:${n}`), ...names.ips.map((ip) => `IP:${ip}`)].join(",");
  writeFileSync(
    file("pki.cnf"),
    `[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ${san}
`,
  );
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const makeCa = (base: string, cn: string) =>
    run("req", "-x509", ...ec, "-keyout", file(`${base}.key`), "-out", file(`${base}.crt`), "-days", "30",
      "-subj", `/CN=${cn}`, "-config", file("pki.cnf"), "-extensions", "ca_ext");
  await makeCa("ca", "mailpool integration CA");
  await makeCa("other-ca", "mailpool unrelated CA");
  const cn = names.dnsNames[0] ?? names.ips[0] ?? "localhost";
  await run("req", "-new", ...ec, "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", `/CN=${cn}`);
  await run("x509", "-req", "-in", file("server.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-days", "30", "-sha256", "-extfile", file("pki.cnf"), "-extensions", "leaf_ext", "-out", file("server.crt"));
  return {
    caFile: file("ca.crt"),
    caPem: readFileSync(file("ca.crt"), "utf8"),
    certFile: file("server.crt"),
    keyFile: file("server.key"),
    otherCaFile: file("other-ca.crt"),
    otherCaPem: readFileSync(file("other-ca.crt"), "utf8"),
  };
}
