/**
 * When whoever reads a command's output stops reading (`... | head -3`), the
 * command still finishes its work and returns its exit status: what it would
 * have printed is dropped, instead of an unhandled EPIPE ending it midway.
 */
export function keepWorkingWhenOutputCloses(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") return;
    throw error;
  });
}
