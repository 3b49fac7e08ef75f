/**
 * Test certificates, made at test time with the openssl CLI into a temporary folder (removed when
 * the process exits) and cached per test process: a CA, and leaves it signed for mx1.example.net
 * (+ IP 127.0.0.1): valid, expired, expiring soon, and one for the wrong name.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const DAY_MS = 86_400_000;

export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

export interface TestCerts {
  /** PEM of the CA that signed every leaf below. */
  readonly ca: string;
  /** mx1.example.net and 127.0.0.1, valid for 90 days from now. */
  readonly valid: KeyPair;
  /** mx1.example.net and 127.0.0.1, expired 2.5 days ago. */
  readonly expired: KeyPair;
  /** mx1.example.net and 127.0.0.1, expires 2.5 days from now. */
  readonly expiringSoon: KeyPair;
  /** wrong.example.org only. */
  readonly wrongName: KeyPair;
  /** notAfter of `valid`, ms since the epoch. */
  readonly validNotAfterMs: number;
}

const LEAF = `basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid`;

const CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = mailpool test CA
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ca]
default_ca = test_ca
[test_ca]
database = ./index.txt
new_certs_dir = ./issued
serial = ./serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
[mx1]
${LEAF}
subjectAltName = DNS:mx1.example.net,IP:127.0.0.1
[wrong]
${LEAF}
subjectAltName = DNS:wrong.example.org
`;

/** openssl's ASN.1 time: YYYYMMDDHHMMSSZ. */
const asn1Time = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");

async function makeCerts(): Promise<TestCerts> {
  const dir = mkdtempSync(join(tmpdir(), "mailpool-certs-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  writeFileSync(join(dir, "openssl.cnf"), CONFIG);
  mkdirSync(join(dir, "issued"));
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  await openssl("req", "-x509", "-config", "openssl.cnf", "-extensions", "ca_ext", "-newkey", "ec", "-pkeyopt",
    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650");

  const leaf = async (file: string, cn: string, section: string, fromMs: number, toMs: number): Promise<KeyPair> => {
    await openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", `${file}.key`, "-out", `${file}.csr`, "-subj", `/CN=${cn}`);
    await openssl("ca", "-config", "openssl.cnf", "-batch", "-notext", "-cert", "ca.crt", "-keyfile", "ca.key",
      "-in", `${file}.csr`, "-out", `${file}.crt`, "-extensions", section,
      "-startdate", asn1Time(fromMs), "-enddate", asn1Time(toMs));
    return { key: read(`${file}.key`), cert: read(`${file}.crt`) };
  };
  const now = Date.now();
  const validNotAfterMs = Math.floor((now + 90 * DAY_MS) / 1000) * 1000;
  const valid = await leaf("valid", "mx1.example.net", "mx1", now - DAY_MS, validNotAfterMs);
  const expired = await leaf("expired", "mx1.example.net", "mx1", now - 30 * DAY_MS, now - 2.5 * DAY_MS);
  const expiringSoon = await leaf("soon", "mx1.example.net", "mx1", now - DAY_MS, now + 2.5 * DAY_MS);
  const wrongName = await leaf("wrong", "wrong.example.org", "wrong", now - DAY_MS, now + 90 * DAY_MS);
  return { ca: read("ca.crt"), valid, expired, expiringSoon, wrongName, validNotAfterMs };
}

let cached: Promise<TestCerts> | undefined;

/** The test certificates, made once per test process. */
export const testCerts = (): Promise<TestCerts> => (cached ??= makeCerts());
