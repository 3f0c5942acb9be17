/** One line of a container's output, as the runtime stamps it. */
export interface LogLine {
  readonly time: Date;
  readonly text: string;
}

/** What an attached client receives: the process's output as it is written, on the stream it went to. */
export type OutputTap = (stream: 'stdout' | 'stderr', data: Buffer) => void;

/** Lines kept per container; the runtime rotates older ones away. */
const MAX_LINES = 2000;

/**
 * A container's log, as the runtime keeps it for `kubectl logs`: lines in order, a cap, and
 * followers that receive new lines until the container stops.
 */
export class ContainerLog {
  private readonly lines: LogLine[] = [];
  /** Made on the first follower (`kubectl logs -f`): most logs never have one. */
  private followers: Set<(line: LogLine | undefined) => void> | undefined;
  /** Attached clients (`kubectl attach`), made on the first. */
  private taps: Set<OutputTap> | undefined;
  private ended = false;

  /** A whole line the process wrote to stdout. */
  write(text: string): void {
    // Most logs are never attached to: no bytes are made for nobody.
    if (this.taps) this.output('stdout', Buffer.from(`${text}\n`));
    this.append(text);
  }

  private output(stream: 'stdout' | 'stderr', data: Buffer): void {
    if (this.taps) for (const tap of this.taps) tap(stream, data);
  }

  private append(text: string): void {
    const line = { time: new Date(), text };
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    if (this.followers) for (const f of this.followers) f(line);
  }

  /**
   * A byte stream into the log (a process's stdout or stderr): each complete line becomes an
   * entry; `flush` writes a last line that has no newline.
   */
  stream(name: 'stdout' | 'stderr'): { write(data: Buffer): void; flush(): void } {
    let partial = '';
    return {
      write: (data) => {
        this.output(name, data);
        const lines = (partial + data.toString('utf8')).split('\n');
        partial = lines.pop()!;
        for (const l of lines) this.append(l);
      },
      flush: () => {
        if (partial) this.append(partial);
        partial = '';
      },
    };
  }

  /** The container stopped: followers see the end. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.taps = undefined;
    const followers = this.followers;
    this.followers = undefined;
    if (followers) for (const f of followers) f(undefined);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  snapshot(): readonly LogLine[] {
    return this.lines;
  }

  /** Calls `onOutput` with what the process writes from now on, bytes as they come (a prompt before its newline); returns the unsubscribe. */
  tap(onOutput: OutputTap): () => void {
    if (this.ended) return () => undefined;
    const taps = (this.taps ??= new Set());
    taps.add(onOutput);
    return () => void taps.delete(onOutput);
  }

  /** Calls `onLine` for each new line, then with undefined when the container stops; returns the unsubscribe. */
  follow(onLine: (line: LogLine | undefined) => void): () => void {
    if (this.ended) {
      onLine(undefined);
      return () => undefined;
    }
    const followers = (this.followers ??= new Set());
    followers.add(onLine);
    return () => void followers.delete(onLine);
  }
}
