/**
 * A reader that stops early (`mailpool plan | head -1`) closes the pipe; Node then emits EPIPE on
 * the next write, and an unhandled 'error' event would end the run with a stack trace. What is
 * left to write has no reader, so it is dropped, and the command ends with its usual exit code.
 */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") return;
    // Any other output failure (a full disk behind a redirect): say so once, plainly.
    process.exitCode = 1;
    if (stream !== process.stderr) process.stderr.write(`mailpool: cannot write output: ${err.message}\n`);
  });
}
