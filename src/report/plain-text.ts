/**
 * Probe output reaches messages as it came: HTTP bodies, command output with ANSI colours.
 * In a terminal or a Markdown page those bytes would recolour or garble the report, so the
 * human-facing reporters drop escape sequences and other control characters (the JSON result
 * and the journal keep them verbatim).
 */
// eslint-disable-next-line no-control-regex
const ANSI_SEQUENCE = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-_]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

export function plainText(text: string): string {
  return text.replace(ANSI_SEQUENCE, '').replace(CONTROL, '');
}
