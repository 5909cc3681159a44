import { once } from 'node:events';

/** Lines are written in chunks of about this many characters: few writes, and no report-sized string. */
const CHUNK_CHARACTERS = 64 * 1024;

/** Newline-terminated lines gathered into chunks of about CHUNK_CHARACTERS (a longer line is a chunk of its own). */
export function* chunked(lines: Iterable<string>): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (const line of lines) {
    parts.push(line, '\n');
    size += line.length + 1;
    if (size >= CHUNK_CHARACTERS) {
      yield parts.join('');
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield parts.join('');
}

/**
 * Writes lines as they are produced, waiting for 'drain' when the stream buffers: a 200,000-change
 * report never exists as one string, nor piles up in memory in front of a slow reader.
 */
export async function writeLines(lines: Iterable<string>, stream: NodeJS.WritableStream): Promise<void> {
  let failure: unknown;
  const onError = (error: unknown) => {
    failure ??= error;
  };
  stream.on('error', onError);
  try {
    for (const chunk of chunked(lines)) {
      if (failure !== undefined) throw failure;
      if (!stream.write(chunk)) await once(stream, 'drain');
    }
    if (failure !== undefined) throw failure;
  } finally {
    stream.off('error', onError);
  }
}
