/**
 * `${VAR}` and `${VAR:-default}` in configuration values read the environment, so that
 * secrets stay out of git. `$${...}` escapes a literal `${`. As in the shell, a variable set to
 * "" is set (an empty password is a password), and `:-` uses the default for unset or empty.
 */
const REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Interpolation {
  value: string;
  /** Variables referenced without a default and not set at all. */
  missing: string[];
}

export function interpolate(text: string, env: NodeJS.ProcessEnv): Interpolation {
  const missing: string[] = [];
  const value = text.replace(REFERENCE, (whole, escaped: string | undefined, name: string, fallback: string | undefined) => {
    if (escaped) return whole.slice(1);
    const found = env[name];
    if (fallback !== undefined) return found || fallback;
    if (found !== undefined) return found;
    missing.push(name);
    return '';
  });
  return { value, missing };
}
