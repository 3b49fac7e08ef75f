import type { Finding } from "../types.js";

/** A finding with its fields in the order people read them. */
export const finding = (f: Finding): Finding => ({
  id: f.id,
  severity: f.severity,
  subject: f.subject,
  message: f.message,
  evidence: f.evidence,
  fix: f.fix,
  rfc: f.rfc,
});
