/**
 * Go's time.Duration.String(), for the text Kubernetes writes durations in (the kubelet's back-off
 * messages, metav1.Duration in JSON): 1h2m3.5s, 1m20s, 250ms, 1.5µs, 0s. It takes nanoseconds,
 * Go's unit.
 */
export function goDuration(nanos: number): string {
  if (nanos === 0) return '0s';
  const sign = nanos < 0 ? '-' : '';
  const n = Math.abs(nanos);
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${trimmed(n / 1e3)}µs`;
  if (n < 1e9) return `${sign}${trimmed(n / 1e6)}ms`;
  const hours = Math.floor(n / 3.6e12);
  const minutes = Math.floor((n % 3.6e12) / 6e10);
  const seconds = trimmed((n % 6e10) / 1e9);
  return `${sign}${hours > 0 ? `${hours}h${minutes}m` : minutes > 0 ? `${minutes}m` : ''}${seconds}s`;
}

function trimmed(n: number): string {
  return String(Number(n.toFixed(9)));
}
