/**
 * The HTML5 named character references, keyed as Python's `html.entities.html5` keys them:
 * with their semicolon, plus the legacy names that also work without one (`amp`, `copy`…).
 * Built from the WHATWG list as `character-entities` (names → values) and
 * `character-entities-legacy` (the names allowed without a semicolon) carry it.
 * The `entities` package is not used for lookups: its trie decoder mis-decodes some
 * non-entities (entities 7.0.1 turns `&dcy9;` into `≎` and `&bepsix` into `Á`).
 */
import { characterEntities } from 'character-entities';
import { characterEntitiesLegacy } from 'character-entities-legacy';

function legacyValue(name: string): string {
  const value = characterEntities[name];
  if (value === undefined) throw new Error(`legacy character reference without a value: ${name}`);
  return value;
}

export const HTML5_ENTITIES: ReadonlyMap<string, string> = new Map([
  ...Object.entries(characterEntities).map(([name, value]): [string, string] => [`${name};`, value]),
  ...characterEntitiesLegacy.map((name): [string, string] => [name, legacyValue(name)]),
]);
