/** The transport error as a short kind a person and an SLO can group by. */
export function errorKind(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      if (typeof code === 'string' && /CERT|SSL|TLS/.test(code)) return 'tls';
      return typeof code === 'string' ? code.toLowerCase() : 'error';
  }
}
