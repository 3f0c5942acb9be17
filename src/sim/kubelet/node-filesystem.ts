/**
 * A node's root filesystem (nodefs) as the kubelet's eviction manager sees it: a capacity, what the
 * system and images use, and what disk-fill faults allocate on top.
 */
export class NodeFilesystem {
  private readonly fills = new Map<string, number>();

  constructor(
    readonly capacityBytes: number,
    private readonly baseUsedBytes: number,
    /** Eviction threshold nodefs.available, as a fraction of capacity. @default 0.1 */
    readonly evictionThreshold = 0.1,
  ) {}

  get usedBytes(): number {
    let used = this.baseUsedBytes;
    for (const b of this.fills.values()) used += b;
    return Math.min(this.capacityBytes, used);
  }

  get availableBytes(): number {
    return this.capacityBytes - this.usedBytes;
  }

  /** Allocates `bytes` more (capped at what is free); returns what was actually allocated. */
  fill(id: string, bytes: number): number {
    const granted = Math.max(0, Math.min(bytes, this.availableBytes));
    this.fills.set(id, (this.fills.get(id) ?? 0) + granted);
    return granted;
  }

  /** Bytes needed to bring usage to `percent` of capacity (0 when already there). */
  bytesToReach(percent: number): number {
    return Math.max(0, Math.ceil((percent / 100) * this.capacityBytes) - this.usedBytes);
  }

  release(id: string): boolean {
    return this.fills.delete(id);
  }

  get underPressure(): boolean {
    return this.availableBytes < this.evictionThreshold * this.capacityBytes;
  }

  snapshot(): { capacityBytes: number; usedBytes: number; availableBytes: number } {
    return { capacityBytes: this.capacityBytes, usedBytes: this.usedBytes, availableBytes: this.availableBytes };
  }
}
