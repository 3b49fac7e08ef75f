import { ProviderConfigError } from "../types.js";

/** The zone file cannot be read (or must not be edited); names the file and the line. */
export class ZoneSyntaxError extends ProviderConfigError {
  constructor(
    readonly source: string,
    /** 1-based line number. */
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${source}:${line}: ${reason}`);
  }
}
