// npm run docs:config — writes docs/configuration.md, the reference of every setting and binding,
// from the settings schemas (names, defaults, bounds), the comments above their entries
// (descriptions; `@secret` marks a secret), wrangler.toml (bindings, as wrangler itself reads it)
// and the backfill CLI's --help. test/docs/configuration.test.ts fails when the committed file
// differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { experimental_readRawConfig } from 'wrangler';
import { z } from 'zod';
import { HELP as BACKFILL_HELP } from '../../backfill/help.ts';
import { schema as embedderSchema } from '../../embedder/config.ts';
import { schema as indexSchema } from '../../index/config.ts';
import { schema as workerSchema } from '../../worker/config.ts';
import { schema as startSchema } from '../start-settings.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const CONFIGURATION_DOC = 'docs/configuration.md';

/** A description and tags, from a node's doc comment. */
interface DocComment {
  text: string;
  secret: boolean;
  /** The declared type, for an interface's property. */
  type?: string;
}

function docComment(node: ts.Node): DocComment | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const doc = docs.at(-1);
  if (!doc) return undefined;
  const text = (ts.getTextOfJSDocComment(doc.comment) ?? '').replace(/\s+/g, ' ').trim();
  return { text, secret: (doc.tags ?? []).some((tag) => tag.tagName.text === 'secret') };
}

const parse = (file: string) => ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);

/** The doc comments of the properties of the `z.object({...})` that `export const schema` is built from. */
function schemaComments(file: string): Map<string, DocComment> {
  const comments = new Map<string, DocComment>();
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'object' &&
      node.arguments[0] &&
      ts.isObjectLiteralExpression(node.arguments[0])
    ) {
      for (const property of node.arguments[0].properties) {
        const comment = ts.isPropertyAssignment(property) ? docComment(property) : undefined;
        if (property.name && ts.isIdentifier(property.name) && comment) comments.set(property.name.text, comment);
      }
      return;
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of parse(file).statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations)
      if (ts.isIdentifier(declaration.name) && declaration.name.text === 'schema' && declaration.initializer) visit(declaration.initializer);
  }
  return comments;
}

/** The doc comments of an interface's properties (the worker's Env: its bindings). */
function interfaceComments(file: string, name: string): Map<string, DocComment> {
  const comments = new Map<string, DocComment>();
  for (const statement of parse(file).statements) {
    if (!ts.isInterfaceDeclaration(statement) || statement.name.text !== name) continue;
    for (const member of statement.members) {
      const comment = docComment(member);
      if (ts.isPropertySignature(member) && ts.isIdentifier(member.name) && comment)
        comments.set(member.name.text, { ...comment, ...(member.type ? { type: member.type.getText() } : {}) });
    }
  }
  return comments;
}

// ---- one setting: default and what it accepts, from its JSON Schema -------------------------------

type JsonSchema = {
  type?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
};

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;

const code = (value: unknown) => `\`${String(value)}\``;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A number as written, with its size or duration where the setting's name gives the unit. */
function amount(name: string, value: number): string {
  if (/_PORT$/.test(name)) return String(value);
  const plain = value.toLocaleString('en-US');
  if (/_BYTES$/.test(name) && value >= 1024 && value % 1024 === 0)
    return `${plain} (${value % GiB === 0 ? `${value / GiB} GiB` : value % MiB === 0 ? `${value / MiB} MiB` : `${value / 1024} KiB`})`;
  if (/_MS$/.test(name) && value >= 1000 && value % 1000 === 0)
    return `${plain} (${value % 3_600_000 === 0 ? `${value / 3_600_000} h` : value % 60_000 === 0 ? `${value / 60_000} min` : `${value / 1000} s`})`;
  if (/_SECONDS$/.test(name) && value >= 86_400 && value % 86_400 === 0) return `${plain} (${value / 86_400} d)`;
  return plain;
}

function accepted(name: string, s: JsonSchema): string {
  if (s.enum) return s.enum.map(code).join(', ');
  if (s.anyOf) {
    const values = s.anyOf.flatMap((part) => (part.type === 'boolean' ? [true, false] : (part.enum ?? [])));
    if (values.length) return [...new Set(values.map(String))].map(code).join(', ');
    return s.anyOf.map((part) => accepted(name, part)).join(', or ');
  }
  switch (s.type) {
    case 'boolean':
      return '`true`, `false`';
    case 'integer':
    case 'number': {
      const kind = s.type === 'integer' ? 'integer' : 'number';
      // zod's int() bounds every integer by the safe range: no bound worth stating.
      const minimum = s.minimum === Number.MIN_SAFE_INTEGER ? undefined : s.minimum;
      const maximum = s.maximum === Number.MAX_SAFE_INTEGER ? undefined : s.maximum;
      if (minimum !== undefined && maximum !== undefined) return `${kind} ${amount(name, minimum)} to ${amount(name, maximum)}`;
      if (minimum !== undefined) return `${kind} ≥ ${amount(name, minimum)}`;
      if (maximum !== undefined) return `${kind} ≤ ${amount(name, maximum)}`;
      return kind;
    }
    case 'array': {
      const items = s.items?.format === 'uri' ? 'URLs' : 'values';
      return `comma-separated ${items}${s.maxItems !== undefined ? `, at most ${s.maxItems}` : ''}`;
    }
    case 'string':
      if (s.format === 'uri') return 'URL';
      if (s.pattern) return `text matching ${code(s.pattern)}`;
      if (s.minLength !== undefined && s.minLength > 1) return `text, at least ${s.minLength} characters`;
      return 'text';
    default:
      return 'text';
  }
}

interface Setting {
  name: string;
  default: string;
  accepted: string;
  description: string;
  secret: boolean;
}

function settings(schema: z.ZodObject, file: string): Setting[] {
  const comments = schemaComments(file);
  return Object.entries(schema.shape).map(([name, field]) => {
    const output = jsonSchema(field as z.ZodType, 'output');
    const input = jsonSchema(field as z.ZodType, 'input');
    const shape = output.type || output.enum || output.anyOf ? output : input;
    const fallback = output.default ?? input.default;
    const shown = Array.isArray(fallback) ? fallback.join(',') : fallback;
    const comment = comments.get(name);
    const description = (field as z.ZodType).description ?? comment?.text;
    if (!description) throw new Error(`${file}: the setting ${name} has no description: put a /** comment */ above it (or .describe() it)`);
    return {
      name,
      default: shown === undefined || shown === '' ? '' : typeof shown === 'number' ? amount(name, shown) : code(shown),
      accepted: accepted(name, shape),
      description,
      secret: comment?.secret ?? false,
    };
  });
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

function settingsTable(rows: Setting[], extra?: { header: string; value: (name: string) => string }): string {
  const header = ['variable', 'default', 'accepts', ...(extra ? [extra.header] : []), 'what'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const name = `\`${row.name}\`${row.secret ? ' (secret)' : ''}`;
    const cells = [name, row.default, row.accepted, ...(extra ? [extra.value(row.name)] : []), row.description];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

// ---- the worker's bindings, from wrangler.toml as wrangler reads it -------------------------------

type Table = Record<string, unknown>;

/** wrangler.toml's binding kinds: where they are declared, what they are, and which field names them. */
const BINDING_KINDS: { path: string; kind: string; nameField?: string; what?: string }[] = [
  { path: 'vectorize', kind: 'Vectorize index' },
  { path: 'kv_namespaces', kind: 'KV namespace' },
  { path: 'r2_buckets', kind: 'R2 bucket' },
  { path: 'd1_databases', kind: 'D1 database' },
  { path: 'ratelimits', kind: 'rate limiter', nameField: 'name' },
  { path: 'analytics_engine_datasets', kind: 'Analytics Engine dataset' },
  { path: 'queues.producers', kind: 'queue producer' },
  { path: 'services', kind: 'service binding' },
  { path: 'hyperdrive', kind: 'Hyperdrive' },
  { path: 'ai', kind: 'Workers AI' },
  { path: 'browser', kind: 'Browser Rendering' },
  { path: 'assets', kind: 'static assets', what: 'Files served by Cloudflare before the worker runs; the run_worker_first paths always run the worker.' },
];

interface Bound {
  name: string;
  kind: string;
  resource: string;
  what?: string;
}

const at = (table: Table | undefined, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Table)[key] : undefined), table);

/** A binding's other fields as written in wrangler.toml. */
const resource = (entry: Table, nameField: string) =>
  Object.entries(entry)
    .filter(([key]) => key !== nameField)
    .map(([key, value]) => `${key} = ${typeof value === 'object' ? JSON.stringify(value).replace(/"(\w+)":/g, '$1 = ').replace(/,/g, ', ') : JSON.stringify(value)}`)
    .join(', ');

function bindings(environment: Table | undefined): Bound[] {
  const found: Bound[] = [];
  for (const { path, kind, nameField = 'binding', what } of BINDING_KINDS) {
    const value = at(environment, path);
    const entries = Array.isArray(value) ? value : value && typeof value === 'object' ? [value] : [];
    for (const entry of entries as Table[]) {
      const name = typeof entry[nameField] === 'string' ? (entry[nameField] as string) : `[${path}]`;
      found.push({ name, kind, resource: resource(entry, nameField), ...(what ? { what } : {}) });
    }
  }
  return found;
}

function bindingsTable(production: Bound[], local: Bound[], comments: Map<string, DocComment>): string {
  const names = [...new Set([...production.map((b) => b.name), ...local.map((b) => b.name), ...comments.keys()])];
  const lines = ['| binding | kind | production (`wrangler.toml`) | local (`[env.local]`) | what |', '|---|---|---|---|---|'];
  for (const name of names) {
    const here = production.find((b) => b.name === name);
    const there = local.find((b) => b.name === name);
    const description = comments.get(name)?.text ?? here?.what ?? there?.what;
    if (!description)
      throw new Error(`wrangler.toml binds ${name}, which worker/config.ts's Env does not declare: add it there with a /** comment */`);
    const kind = here?.kind ?? there?.kind ?? `\`${comments.get(name)?.type ?? ''}\``;
    const show = (bound: Bound | undefined) => (bound ? (bound.resource ? `\`${bound.resource}\`` : 'bound') : 'not bound');
    lines.push(`| ${[name.startsWith('[') ? name : `\`${name}\``, kind, show(here), show(there), description ?? ''].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

function consumersTable(production: Table | undefined, local: Table | undefined): string {
  const rows = (environment: Table | undefined, where: string) =>
    ((at(environment, 'queues.consumers') as Table[] | undefined) ?? []).map((consumer) => `| ${where} | \`${String(consumer.queue)}\` | \`${resource(consumer, 'queue')}\` |`);
  return ['| where | queue | settings |', '|---|---|---|', ...rows(production, 'production'), ...rows(local, '`[env.local]`')].join('\n');
}

// ---- the document ----------------------------------------------------------------------------------

export async function renderConfiguration(): Promise<string> {
  const { rawConfig } = experimental_readRawConfig({ config: join(root, 'wrangler.toml') });
  const production = rawConfig as unknown as Table;
  const local = at(production, 'env.local') as Table | undefined;
  const vars = (environment: Table | undefined) => (at(environment, 'vars') ?? {}) as Table;
  const wranglerValue = (name: string) => {
    const values = [vars(production)[name], vars(local)[name]].map((v) => (v === undefined ? '' : code(v)));
    return values[0] || values[1] ? `${values[0] || '–'} / ${values[1] || '–'}` : '';
  };

  return `# Configuration reference

<!-- Generated by \`npm run docs:config\` (scripts/docs/configuration.ts); do not edit by hand. -->

Every setting of every service, generated from the settings schemas (names,
defaults, bounds), the comments above their entries (descriptions),
\`wrangler.toml\` (bindings) and the backfill CLI's \`--help\`. A setting that is
empty counts as unset; a value out of bounds stops the service at start with
a message naming it. **(secret)** marks a credential: on Cloudflare set it
with \`npx wrangler secret put NAME\`, elsewhere keep it in an environment file
only the service's user can read ([SECURITY.md](../SECURITY.md#secrets)).
How they fit together in production: [deploy.md](deploy.md).

- [Worker](#worker): bindings, queue consumers, variables
- [Embedder](#embedder)
- [Local index](#local-index)
- [npm start](#npm-start)
- [Backfill CLI](#backfill-cli)

## Worker

\`worker/config.ts\` and \`wrangler.toml\`; the worker's README has the details
([worker/README.md](../worker/README.md#configuration)).

### Bindings

What \`wrangler.toml\` binds (the resources it names must exist before
\`wrangler deploy\`), and what \`worker/config.ts\`'s \`Env\` says of each.

${bindingsTable(bindings(production), bindings(local), interfaceComments('worker/config.ts', 'Env'))}

### Queue consumers

${consumersTable(production, local)}

### Variables

\`[vars]\` in \`wrangler.toml\` (the column shows production / \`[env.local]\`),
or secrets. \`npm run worker:local\` and \`npm start\` pass the worker
\`EMBEDDER_URLS\`, \`EMBEDDER_TOKEN\`, \`VECTORIZE_URL\`, \`VECTORIZE_TOKEN\` and
\`ADMIN_TOKEN\` from their environment.

${settingsTable(settings(workerSchema, 'worker/config.ts'), { header: 'wrangler.toml', value: wranglerValue })}

## Embedder

\`embedder/config.ts\`, from the environment of \`npm run embedder\`
([embedder/README.md](../embedder/README.md)).

${settingsTable(settings(embedderSchema, 'embedder/config.ts'))}

## Local index

\`index/config.ts\`, from the environment of \`npm run index:serve\`
([index/README.md](../index/README.md)).

${settingsTable(settings(indexSchema, 'index/config.ts'))}

## npm start

\`scripts/start-settings.ts\`. Its environment also reaches the embedder and
the index it starts, so their settings above apply as well.

${settingsTable(settings(startSchema, 'scripts/start-settings.ts'))}

## Backfill CLI

\`backfill/help.ts\`: \`npm run backfill -- --help\` prints this
([backfill/README.md](../backfill/README.md)).

\`\`\`text
${BACKFILL_HELP.trimEnd()}
\`\`\`
`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(join(root, CONFIGURATION_DOC), await renderConfiguration());
  console.log(`wrote ${CONFIGURATION_DOC}`);
}
