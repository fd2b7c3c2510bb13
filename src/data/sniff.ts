// Recognising files that are not what their name says, so the error can say what they are instead.

/** A short description when the bytes look like an HTML/text page (a mirror's error page saved as data). */
export function looksLikeText(head: Uint8Array): string | null {
  const text = Buffer.from(head.subarray(0, 64)).toString('latin1').trimStart();
  if (text.startsWith('<')) {
    return 'an HTML/XML page (probably a download error page saved as a data file)';
  }
  return null;
}

export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
