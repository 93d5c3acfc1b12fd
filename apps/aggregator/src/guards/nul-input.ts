/**
 * PostgreSQL refuses NUL (U+0000) in text and jsonb (22021 / 22P05), so an input holding one is refused up front,
 * with a code, wherever it comes from: URL, query, body, a socket.io payload. The walk is iterative (a deeply
 * nested body cannot overflow the stack) and bounded by `maxNodes`: a value too large to scan is refused too.
 */
export function findNul(value: unknown, maxNodes = 1_000_000): 'nul' | 'too-large' | undefined {
  const stack: unknown[] = [value];
  let seen = 0;
  while (stack.length > 0) {
    if ((seen += 1) > maxNodes) return 'too-large';
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return 'nul';
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) {
      for (const [key, item] of Object.entries(v)) {
        if (key.includes('\u0000')) return 'nul';
        stack.push(item);
      }
    }
  }
  return undefined;
}

/** True when the raw URL holds a NUL, encoded (%00) or not. */
export function urlHasNul(url: string): boolean {
  return url.includes('\u0000') || /%00/i.test(url);
}
