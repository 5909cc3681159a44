import { createColors } from 'picocolors';

export type Colors = ReturnType<typeof createColors>;

/** Colour only where a person reads a terminal (and NO_COLOR is unset). */
export function colorsFor(stream: NodeJS.WriteStream, enabled?: boolean): Colors {
  return createColors(enabled ?? (Boolean(stream.isTTY) && !process.env['NO_COLOR']));
}
