-- Migration 0007: check the keys already stored in "sites" against the rules enrolment applies since issue 16, and
-- REPORT each row that fails: one RAISE WARNING per finding (site id, federation id, field, code; never the key) and
-- one row in "site_key_findings". It never rewrites a key: a new key would not be what the site signed with, and a
-- refused identity key already cannot authenticate (auth:hello checks it), so the operator re-enrolls or revokes.
-- SQL checks what bytes alone can show: padded standard base64 of exactly 32 bytes, y or u >= p (a second encoding),
-- the known small-order Ed25519 encodings, the known low-order X25519 encodings, an X25519 key shared by two sites.
-- Full point decoding (off-curve and mixed-order Ed25519 points) is left to the aggregator's boot-time report
-- (services/site-key-report.ts), which logs a superset of these findings with the same codes at every start.
CREATE TABLE "site_key_findings" (
	"id" serial PRIMARY KEY NOT NULL,
	"site_id" uuid NOT NULL,
	"federation_id" uuid NOT NULL,
	"field" text NOT NULL,
	"code" text NOT NULL,
	"found_by" text NOT NULL,
	"found_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "site_key_findings_site_idx" ON "site_key_findings" USING btree ("site_id");
--> statement-breakpoint
-- The raw 32 bytes of a key in canonical base64, or NULL (E_KEY_ENCODING). decode() skips whitespace and the regex
-- alone accepts non-zero trailing bits, hence the re-encoding comparison.
CREATE FUNCTION "concord_0007_key_bytes"(value text) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  raw bytea;
BEGIN
  IF value !~ '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$' THEN
    RETURN NULL;
  END IF;
  raw := decode(value, 'base64');
  IF length(raw) <> 32 OR encode(raw, 'base64') <> value THEN
    RETURN NULL;
  END IF;
  RETURN raw;
END
$$;
--> statement-breakpoint
-- True when the 255-bit little-endian number in `raw` (top bit ignored) is >= p = 2^255 - 19: a second encoding.
CREATE FUNCTION "concord_0007_at_least_p"(raw bytea) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT (get_byte(raw, 31) & 127) = 127
     AND substring(raw FROM 2 FOR 30) = decode(repeat('ff', 30), 'hex')
     AND get_byte(raw, 0) >= 237
$$;
--> statement-breakpoint
-- The code libs/protocol's ed25519KeyProblem gives, as far as bytes show it (NULL: nothing found here).
CREATE FUNCTION "concord_0007_ed25519_problem"(value text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  raw bytea := "concord_0007_key_bytes"(value);
  y bytea;
  sign integer;
BEGIN
  IF raw IS NULL THEN
    RETURN 'E_KEY_ENCODING';
  END IF;
  IF "concord_0007_at_least_p"(raw) THEN
    RETURN 'E_KEY_NONCANONICAL';
  END IF;
  sign := get_byte(raw, 31) >> 7;
  y := set_byte(raw, 31, get_byte(raw, 31) & 127);
  -- y = 1 (the identity) and y = p - 1 (order 2) have x = 0: a set sign bit is a second encoding of them
  IF sign = 1 AND y IN (decode('01' || repeat('00', 31), 'hex'), decode('ec' || repeat('ff', 30) || '7f', 'hex')) THEN
    RETURN 'E_KEY_NONCANONICAL';
  END IF;
  -- the y of the 8 torsion points: 1 (identity), p - 1 (order 2), 0 (order 4), and the two of order 8
  IF y IN (
    decode('01' || repeat('00', 31), 'hex'),
    decode('ec' || repeat('ff', 30) || '7f', 'hex'),
    decode(repeat('00', 32), 'hex'),
    decode('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex'),
    decode('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex')
  ) THEN
    RETURN 'E_KEY_SMALL_ORDER';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- The code libs/protocol's x25519KeyProblem gives (bytes tell all of it for X25519: the low-order u are five values).
CREATE FUNCTION "concord_0007_x25519_problem"(value text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  raw bytea := "concord_0007_key_bytes"(value);
BEGIN
  IF raw IS NULL THEN
    RETURN 'E_KEY_ENCODING';
  END IF;
  IF get_byte(raw, 31) >= 128 OR "concord_0007_at_least_p"(raw) THEN
    RETURN 'E_KEY_NONCANONICAL';
  END IF;
  -- u of the points of order 2, 4 and 8 (RFC 7748 section 6.1): 0, 1, p - 1 and the two of order 8
  IF raw IN (
    decode(repeat('00', 32), 'hex'),
    decode('01' || repeat('00', 31), 'hex'),
    decode('ec' || repeat('ff', 30) || '7f', 'hex'),
    decode('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex'),
    decode('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', 'hex')
  ) THEN
    RETURN 'E_KEY_LOW_ORDER';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DO $$
DECLARE
  finding record;
  found integer := 0;
BEGIN
  FOR finding IN
    WITH checked AS (
      SELECT id, federation_id, created_at, key_agreement_public_key,
             "concord_0007_ed25519_problem"(identity_public_key) AS identity_problem,
             "concord_0007_x25519_problem"(key_agreement_public_key) AS agreement_problem
        FROM sites
    ),
    shared AS (
      -- canonical keys: equal strings iff equal bytes
      SELECT key_agreement_public_key FROM checked WHERE agreement_problem IS NULL
       GROUP BY key_agreement_public_key HAVING count(*) > 1
    )
    SELECT id, federation_id, 'identityPublicKey' AS field, identity_problem AS code, created_at, 0 AS rank
      FROM checked WHERE identity_problem IS NOT NULL
    UNION ALL
    SELECT id, federation_id, 'keyAgreementPublicKey', agreement_problem, created_at, 1
      FROM checked WHERE agreement_problem IS NOT NULL
    UNION ALL
    SELECT c.id, c.federation_id, 'keyAgreementPublicKey', 'E_DUPLICATE_KEY', c.created_at, 2
      FROM checked c JOIN shared s USING (key_agreement_public_key)
    ORDER BY rank, created_at, id
  LOOP
    INSERT INTO "site_key_findings" ("site_id", "federation_id", "field", "code", "found_by")
      VALUES (finding.id, finding.federation_id, finding.field, finding.code, '0007_site_key_report');
    RAISE WARNING 'site % (federation %): % fails the key checks (%): re-enroll or revoke this site',
      finding.id, finding.federation_id, finding.field, finding.code;
    found := found + 1;
  END LOOP;
  IF found > 0 THEN
    RAISE WARNING '% stored site key finding(s) recorded in site_key_findings; no key was changed', found;
  END IF;
END
$$;
--> statement-breakpoint
DROP FUNCTION "concord_0007_ed25519_problem"(text);
--> statement-breakpoint
DROP FUNCTION "concord_0007_x25519_problem"(text);
--> statement-breakpoint
DROP FUNCTION "concord_0007_at_least_p"(bytea);
--> statement-breakpoint
DROP FUNCTION "concord_0007_key_bytes"(text);
