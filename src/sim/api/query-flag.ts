/**
 * A boolean query parameter as the real API server decodes it (apimachinery's
 * Convert_Slice_string_To_bool): absent, `0` or any casing of `false` is false; every other value,
 * the empty string and Python's `True` included, is true.
 */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null) return false;
  return value !== '0' && value.toLowerCase() !== 'false';
}
