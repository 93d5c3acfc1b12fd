/**
 * Public keys as they travel: the raw 32 bytes in standard base64 with padding and no whitespace (RFC 4648
 * section 4), one encoding per key, so two strings name the same key iff they are equal. Decoded keys are checked
 * as curve points, not only as lengths:
 *
 * - Ed25519 (RFC 8032 section 5.1.3 decoding): y < p, the point is on the curve, x = 0 with the sign bit set is
 *   refused (a second encoding of the same point), and the point must lie in the prime-order subgroup: a key of
 *   small order (the identity, (0, -1), the points of order 4 and 8) lets a trivial signature verify every message
 *   ("Taming the many EdDSAs", Brendel et al., SSR 2020, section 3), and a mixed-order key has several valid
 *   encodings of the same signer. Honest keys (A = [s]B) always pass.
 * - X25519 (RFC 7748 section 5): the top bit is clear and u < p (one encoding per u), and [8]u is not the point at
 *   infinity: a low-order peer key fixes the shared secret to one of a handful of values (RFC 7748 section 6.1).
 *
 * Checks are plain BigInt arithmetic (no dependency has Ed25519 point decoding); a result is cached per encoded key.
 */

/** A refused public key; `code` says why. */
export class PublicKeyError extends RangeError {
  constructor(
    readonly code:
      'E_KEY_ENCODING' | 'E_KEY_NONCANONICAL' | 'E_KEY_NOT_ON_CURVE' | 'E_KEY_SMALL_ORDER' | 'E_KEY_LOW_ORDER',
    message: string,
  ) {
    super(message);
    this.name = 'PublicKeyError';
  }
}

const P = 2n ** 255n - 19n;
/** order of the Ed25519 base point's subgroup */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint) => {
  const r = a % P;
  return r < 0n ? r + P : r;
};
function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}
const inv = (a: bigint) => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const D2 = mod(2n * D);
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes of `value` when it is exactly `length` bytes in padded standard base64 with no other character
 * (whitespace, '!', missing padding and non-zero trailing bits are all refused: Buffer.from would ignore them).
 * @throws TypeError when `value` is not a string; PublicKeyError E_KEY_ENCODING otherwise.
 */
export function decodeCanonicalBase64(value: unknown, length: number, name: string): Uint8Array {
  if (typeof value !== 'string') throw new TypeError(`${name}: expected a base64 string`);
  const bytes = CANONICAL_BASE64.test(value) ? Buffer.from(value, 'base64') : undefined;
  if (!bytes || bytes.length !== length || bytes.toString('base64') !== value) {
    throw new PublicKeyError('E_KEY_ENCODING', `${name}: expected ${length} bytes in padded standard base64`);
  }
  return new Uint8Array(bytes);
}

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

type Point = [bigint, bigint, bigint, bigint]; // extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z

/** RFC 8032 section 5.1.4 unified addition on -x^2 + y^2 = 1 + d x^2 y^2 (valid for doubling too). */
function add([x1, y1, z1, t1]: Point, [x2, y2, z2, t2]: Point): Point {
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(t1 * D2 * t2);
  const d = mod(z1 * 2n * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function multiply(point: Point, scalar: bigint): Point {
  let result: Point = [0n, 1n, 1n, 0n];
  let addend = point;
  for (let k = scalar; k > 0n; k >>= 1n) {
    if (k & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

const isIdentity = ([x, y, z]: Point) => mod(x) === 0n && mod(y - z) === 0n;

function ed25519Problem(bytes: Uint8Array, name: string): PublicKeyError | undefined {
  const sign = bytes[31] >> 7;
  const y = littleEndian(bytes) & (2n ** 255n - 1n);
  if (y >= P) return new PublicKeyError('E_KEY_NONCANONICAL', `${name}: y is not reduced mod p`);
  // x^2 = (y^2 - 1) / (d y^2 + 1); square root as in RFC 8032 section 5.1.3 step 3
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
  else if (vx2 !== u) return new PublicKeyError('E_KEY_NOT_ON_CURVE', `${name}: not a point of Ed25519`);
  if (x === 0n && sign === 1) return new PublicKeyError('E_KEY_NONCANONICAL', `${name}: x = 0 with the sign bit set`);
  if (Number(x & 1n) !== sign) x = P - x;
  const point: Point = [x, y, 1n, mod(x * y)];
  if (isIdentity(multiply(point, 8n))) {
    return new PublicKeyError('E_KEY_SMALL_ORDER', `${name}: a point of small order cannot be an identity key`);
  }
  if (!isIdentity(multiply(point, L))) {
    return new PublicKeyError('E_KEY_SMALL_ORDER', `${name}: the point has a small-order component`);
  }
  return undefined;
}

function x25519Problem(bytes: Uint8Array, name: string): PublicKeyError | undefined {
  const u = littleEndian(bytes);
  if (u >= P)
    return new PublicKeyError('E_KEY_NONCANONICAL', `${name}: u is not reduced mod p (or its top bit is set)`);
  // [8]u by three x-only doublings (RFC 7748 section 5 ladder step, a24 = 121665): Z = 0 is the point at infinity
  let [x, z] = [u, 1n];
  for (let i = 0; i < 3; i++) {
    const aa = mod((x + z) * (x + z));
    const bb = mod((x - z) * (x - z));
    const e = mod(aa - bb);
    [x, z] = [mod(aa * bb), mod(e * (aa + 121665n * e))];
  }
  if (z === 0n) return new PublicKeyError('E_KEY_LOW_ORDER', `${name}: a low-order X25519 key`);
  return undefined;
}

const verdicts = new Map<string, PublicKeyError | null>();
const CACHE_SIZE = 4096;

function checked(kind: 'ed25519' | 'x25519', value: unknown, name: string, problem: typeof ed25519Problem): Uint8Array {
  const bytes = decodeCanonicalBase64(value, 32, name);
  const cacheKey = `${kind}:${value as string}`;
  let verdict = verdicts.get(cacheKey);
  if (verdict === undefined) {
    verdict = problem(bytes, name) ?? null;
    if (verdicts.size >= CACHE_SIZE) verdicts.clear();
    verdicts.set(cacheKey, verdict);
  }
  if (verdict) throw new PublicKeyError(verdict.code, verdict.message.replace(/^[^:]*:/, `${name}:`));
  return bytes;
}

/**
 * The raw bytes of an Ed25519 public key given as canonical base64, after the point checks above.
 * @throws TypeError for a non-string; PublicKeyError (E_KEY_ENCODING, E_KEY_NONCANONICAL, E_KEY_NOT_ON_CURVE,
 * E_KEY_SMALL_ORDER) naming `name`.
 */
export function parseEd25519PublicKey(value: unknown, name = 'ed25519PublicKey'): Uint8Array {
  return checked('ed25519', value, name, ed25519Problem);
}

/**
 * The raw bytes of an X25519 public key given as canonical base64, after the checks above.
 * @throws TypeError for a non-string; PublicKeyError (E_KEY_ENCODING, E_KEY_NONCANONICAL, E_KEY_LOW_ORDER).
 */
export function parseX25519PublicKey(value: unknown, name = 'x25519PublicKey'): Uint8Array {
  return checked('x25519', value, name, x25519Problem);
}

/**
 * The same checks on a key that travels as raw bytes (an X25519 key in a SecAgg+ advertisement): the bytes are the
 * one encoding there is, so only the point checks apply. Returns `bytes`.
 * @throws PublicKeyError E_KEY_ENCODING (not 32 bytes), E_KEY_NONCANONICAL or E_KEY_LOW_ORDER, naming `name`.
 */
export function checkX25519PublicKeyBytes(bytes: unknown, name = 'x25519PublicKey'): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new PublicKeyError('E_KEY_ENCODING', `${name}: expected 32 bytes`);
  }
  const problem = x25519Problem(bytes, name);
  if (problem) throw problem;
  return bytes;
}

/** The PublicKeyError code for an Ed25519 key that would be refused, or undefined when it is fine. */
export function ed25519KeyProblem(value: unknown): PublicKeyError['code'] | undefined {
  return problemOf(() => parseEd25519PublicKey(value));
}

/** The PublicKeyError code for an X25519 key that would be refused, or undefined when it is fine. */
export function x25519KeyProblem(value: unknown): PublicKeyError['code'] | undefined {
  return problemOf(() => parseX25519PublicKey(value));
}

function problemOf(parse: () => unknown): PublicKeyError['code'] | undefined {
  try {
    parse();
    return undefined;
  } catch (error) {
    return error instanceof PublicKeyError ? error.code : 'E_KEY_ENCODING';
  }
}
