/** Federation spec documents as text: YAML 1.2 (a superset of JSON), so one parser reads both. */
import { parseFederationSpec, FederationSpecError, type FederationSpec } from '@concord/protocol';
import { parse } from 'yaml';

/**
 * The project's one set of YAML reading options, for every document an operator hands in (federation specs through
 * the REST API and the CLI, the server's config file): YAML 1.2 core schema, a duplicate key is an error (never
 * "last wins"), maxAliasCount 16 (the yaml library's billion-laughs guard: 15 aliases of one anchor pass, 16 do
 * not), plain one-line errors. The REST API used 100 before; the stricter CLI limit now holds for both.
 */
export const YAML_READ_OPTIONS = Object.freeze({ prettyErrors: false, uniqueKeys: true, maxAliasCount: 16 });

/** Reads YAML or JSON text with YAML_READ_OPTIONS. Throws TypeError for a non-string, the yaml library's error otherwise. */
export function readYamlText(text: string): unknown {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  return parse(text, YAML_READ_OPTIONS);
}

/**
 * Parses YAML or JSON text and validates it. Throws TypeError for a non-string, FederationSpecError
 * (E_FEDERATION_SPEC) for unreadable text or an invalid spec.
 */
export function parseFederationSpecText(text: string): FederationSpec {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  let value: unknown;
  try {
    value = readYamlText(text);
  } catch (error) {
    throw new FederationSpecError([{ path: '', message: `not YAML/JSON: ${(error as Error).message.split('\n')[0]}` }]);
  }
  return parseFederationSpec(value);
}
