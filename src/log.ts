/**
 * pino JSON lines to stderr (stdout carries plans and results). Secrets are redacted wherever
 * they could ride along in a logged object (by key, here), and by value in every text that
 * leaves a provider (providers/redacting-provider.ts).
 */
import { pino, type Logger } from "pino";

export const REDACT_PATHS = [
  "apiToken",
  "*.apiToken",
  "*.*.apiToken",
  "secretAccessKey",
  "*.secretAccessKey",
  "sessionToken",
  "*.sessionToken",
  "secret",
  "*.secret",
  "*.*.secret",
  "*.*.*.secret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  'headers["x-amz-security-token"]',
  '*.headers["x-amz-security-token"]',
  "accessKeyId",
  "*.accessKeyId",
  "password",
  "*.password",
];

export function createLogger(level: string, destination: NodeJS.WritableStream | number = 2): Logger {
  return pino(
    {
      level,
      base: { name: "mailpool" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    typeof destination === "number" ? pino.destination({ fd: destination, sync: true }) : destination,
  );
}
