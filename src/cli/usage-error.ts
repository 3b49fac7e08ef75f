/** Bad arguments on the command line: the CLI exits 64 with the message. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
