/**
 * The server's side of O5LOGON with the 12c password verifier, the one every thin-mode client
 * version accepts (shared/reference/emulators.md §4.3 step 5-6; the client's side is
 * node-oracledb lib/thin/protocol/encryptDecrypt.js). The server keeps, per user, a salt and a
 * PBKDF2 key derived from the password; it never needs the password itself after that, which is
 * how a real server stores a 12c verifier (DBA_USERS.PASSWORD_VERSIONS '12C').
 */
import { createCipheriv, createDecipheriv, createHash, pbkdf2Sync, randomBytes } from 'node:crypto';

/** AUTH_VFR_DATA's flag for the 12c verifier (TNS_VERIFIER_TYPE_12C). */
export const VERIFIER_12C = 0x4815;
const VGEN_COUNT = 4096;
const SDER_COUNT = 3;

export interface Verifier {
  salt: Buffer;
  /** PBKDF2-HMAC-SHA512(password, salt || "AUTH_PBKDF2_SPEEDY_KEY", VGEN_COUNT, 64) */
  speedyKey: Buffer;
  /** SHA-512(speedyKey || salt), cut to 32 bytes: the key of the session-key halves. */
  passwordHash: Buffer;
}

export function makeVerifier(password: string, salt: Buffer = randomBytes(16)): Verifier {
  const speedyKey = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.concat([salt, Buffer.from('AUTH_PBKDF2_SPEEDY_KEY')]), VGEN_COUNT, 64, 'sha512');
  const passwordHash = createHash('sha512').update(speedyKey).update(salt).digest().subarray(0, 32);
  return { salt, speedyKey, passwordHash };
}

function aes(key: Buffer, data: Buffer, decrypt: boolean): Buffer {
  const algorithm = `aes-${key.length * 8}-cbc`;
  const cipher = decrypt ? createDecipheriv(algorithm, key, Buffer.alloc(16)) : createCipheriv(algorithm, key, Buffer.alloc(16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** One logon in progress: phase one's answer, then phase two's check. */
export class O5Logon {
  private readonly serverHalf = randomBytes(32);
  private readonly cskSalt = randomBytes(32);

  constructor(private readonly verifier: Verifier) {}

  /** The PARAMETER pairs of phase one's answer: [key, value, flag]. */
  phaseOne(): [string, string, number][] {
    return [
      ['AUTH_SESSKEY', aes(this.verifier.passwordHash, this.serverHalf, false).toString('hex').toUpperCase(), 0],
      ['AUTH_VFR_DATA', this.verifier.salt.toString('hex').toUpperCase(), VERIFIER_12C],
      ['AUTH_PBKDF2_CSK_SALT', this.cskSalt.toString('hex').toUpperCase(), 0],
      ['AUTH_PBKDF2_VGEN_COUNT', String(VGEN_COUNT), 0],
      ['AUTH_PBKDF2_SDER_COUNT', String(SDER_COUNT), 0],
    ];
  }

  /**
   * Phase two: the client's session-key half, and its password encrypted under the combined key.
   * Returns the AUTH_SVR_RESPONSE to send, or undefined when the password is wrong.
   */
  phaseTwo(clientSessionKey: string, encodedPassword: string, speedyKey: string | undefined): string | undefined {
    const clientHalf = aes(this.verifier.passwordHash, Buffer.from(clientSessionKey, 'hex').subarray(0, 32), true);
    const mixed = Buffer.from(Buffer.concat([clientHalf, this.serverHalf]).toString('hex').toUpperCase(), 'utf8');
    const comboKey = pbkdf2Sync(mixed, this.cskSalt, SDER_COUNT, 32, 'sha512');
    const decoded = aes(comboKey, Buffer.from(encodedPassword, 'hex'), true);
    // 16 random bytes, the password, then n bytes of value n (encryptDecrypt.js _encrypt).
    const padding = decoded[decoded.length - 1] ?? 0;
    const password = decoded.subarray(16, decoded.length - (padding > 0 && padding <= 16 ? padding : 0));
    const expected = makeVerifier(password.toString('utf8'), this.verifier.salt);
    if (!expected.passwordHash.equals(this.verifier.passwordHash)) return undefined;
    if (speedyKey !== undefined) {
      const speedy = aes(comboKey, Buffer.from(speedyKey, 'hex'), true).subarray(16, 80);
      if (!speedy.equals(this.verifier.speedyKey)) return undefined;
    }
    return aes(comboKey, Buffer.concat([randomBytes(16), Buffer.from('SERVER_TO_CLIENT')]), false).toString('hex').toUpperCase();
  }
}
