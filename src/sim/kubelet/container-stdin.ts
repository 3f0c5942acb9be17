import { ChunkQueue } from '../api/pod-exec.js';
import type { ByteSource } from '../api/pod-runtime.js';

/**
 * The stdin the runtime keeps open for a container started with `stdin: true`: its first process
 * reads what attached clients send, and waits while none is attached. As containerd's
 * ContainerIO.Attach does it: when a client's input ends, a `stdinOnce` container without a
 * terminal has its stdin closed (the process reads end of file); otherwise the client is detached
 * and the stdin stays open for the next one.
 */
export class ContainerStdin implements ByteSource {
  private readonly pipe = new ChunkQueue();

  constructor(private readonly closesWithFirstClient: boolean) {}

  read(): Promise<Buffer | undefined> {
    return this.pipe.read();
  }

  /** Copies a client's input until it ends; true when that closed the container's stdin. */
  async attach(input: ByteSource): Promise<boolean> {
    for (let chunk = await input.read(); chunk; chunk = await input.read()) this.pipe.push(chunk);
    if (this.closesWithFirstClient) this.pipe.end();
    return this.closesWithFirstClient;
  }

  /** The process is gone. */
  close(): void {
    this.pipe.end();
  }
}
