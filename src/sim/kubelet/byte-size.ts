const POWERS: Record<string, number> = { '': 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };

/**
 * A size argument as coreutils reads it (`fallocate -l 1G`, `dd bs=4M`, `df -B1`): a number with
 * an optional suffix K/M/G… (powers of 1024, also written KiB), KB/MB… (powers of 1000), or dd's
 * `c`, `w` and `b` (1, 2 and 512 bytes). Undefined when it is not one.
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)?([KMGTPE]?)(i?B?)$/i.exec(text.trim());
  if (m && (m[1] !== undefined || m[2])) {
    const n = m[1] === undefined ? 1 : Number(m[1]);
    const unit = m[2]!.toUpperCase();
    if (!unit && m[3]) return m[3].toLowerCase() === 'b' ? n * 512 : undefined;
    const base = m[3]!.toUpperCase() === 'B' ? 1000 : 1024;
    return Math.round(n * base ** POWERS[unit]!);
  }
  const dd = /^(\d+)([cw])$/.exec(text.trim());
  if (dd) return Number(dd[1]) * (dd[2] === 'w' ? 2 : 1);
  return undefined;
}

/** `4.0K`, `98G`: coreutils' -h output, rounded up, one decimal below 10. */
export function humanBytes(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return String(bytes);
  if (v < 10) {
    const r = Math.ceil(v * 10) / 10;
    return r >= 10 ? `10${units[i]}` : `${r.toFixed(1)}${units[i]}`;
  }
  const r = Math.ceil(v);
  return r >= 1024 && i < units.length - 1 ? `1.0${units[i + 1]}` : `${r}${units[i]}`;
}

/** `10 MB, 10 MiB`: how dd describes a byte count. */
export function ddBytes(bytes: number): string {
  const si = ['B', 'kB', 'MB', 'GB', 'TB'];
  const iec = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const fmt = (base: number, names: string[]): string => {
    let i = 0;
    let v = bytes;
    while (v >= base && i < names.length - 1) {
      v /= base;
      i++;
    }
    return i === 0 ? `${bytes} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${names[i]}`;
  };
  return bytes < 1000 ? '' : ` (${fmt(1000, si)}, ${fmt(1024, iec)})`;
}
