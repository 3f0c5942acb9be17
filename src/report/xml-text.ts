/**
 * Escaping for the XML reporters. Check messages and evidence carry whatever probes saw (HTTP
 * bodies, command output with ANSI colours), and XML 1.0 cannot hold most control characters
 * even as character references, so those are written out as visible `\u001B`-style text
 * instead of silently vanishing.
 */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function visible(text: string): string {
  return text.replace(NOT_XML, (c) => {
    const code = c.charCodeAt(0);
    return code >= 0xd800 && code <= 0xdfff ? '\uFFFD' : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  });
}

/** Text content of an element. */
export function xmlText(text: string): string {
  return visible(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value, for use inside double quotes; line breaks survive as character references. */
export function xmlAttr(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
