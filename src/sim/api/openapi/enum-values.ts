/**
 * The enum values kube-apiserver adds to its OpenAPI (the `OpenAPIEnums` feature, on by default):
 * a field of an enum type gets `enum` and its description a `Possible enum values:` list, which
 * `kubectl explain` prints. Upstream's published spec (`api/openapi-spec`) is generated without
 * them, so `npm run openapi` reads them from the generated definitions the API server is built
 * with (`pkg/generated/openapi/zz_generated.openapi.go`) and adds them to the vendored schemas.
 * That file is gofmt'd generated code: a definition's properties sit at five tabs, their
 * description and enum at seven, and the enum of an array's items or a map's values at ten.
 */
export interface EnumField {
  readonly property: string;
  /** The description with its `Possible enum values:` list, when upstream writes one. */
  readonly description?: string;
  readonly values?: readonly unknown[];
  /** For a list or a map of enum values: the values its items (or its map's values) take. */
  readonly itemValues?: readonly unknown[];
  readonly inside?: 'items' | 'additionalProperties';
}

/** `k8s.io/api/apps/v1.DeploymentStrategy` → `io.k8s.api.apps.v1.DeploymentStrategy`, as kube-openapi names definitions. */
export function definitionName(goType: string): string {
  const [domain = '', ...rest] = goType.split('/');
  return [domain.split('.').reverse().join('.'), ...rest].join('.');
}

const ENUM_LIST = '\n\nPossible enum values:';

function goValues(line: string, where: string): unknown[] {
  try {
    return JSON.parse(`[${line}]`) as unknown[];
  } catch {
    throw new Error(`${where}: cannot read the enum values {${line}}`);
  }
}

/** Every definition's enum fields, by definition name. */
export function enumFields(goSource: string, file = 'zz_generated.openapi.go'): Map<string, EnumField[]> {
  const typeOfFunc = new Map<string, string>();
  const found = new Map<string, Map<string, { description?: string; values?: unknown[]; itemValues?: unknown[]; inside?: EnumField['inside'] }>>();
  let func: string | undefined;
  let property: string | undefined;
  let description: string | undefined;
  let inside: EnumField['inside'];
  for (const [i, line] of goSource.split('\n').entries()) {
    const where = `${file}:${i + 1}`;
    const entry = /^\t\t"([^"]+)":\s+(schema_\w+)\(ref\),$/.exec(line);
    if (entry) typeOfFunc.set(entry[2]!, entry[1]!);
    const start = /^func (schema_\w+)\(ref common\.ReferenceCallback\) common\.OpenAPIDefinition \{$/.exec(line);
    if (start) [func, property] = [start[1], undefined];
    const prop = /^\t{5}"([^"]+)": \{$/.exec(line);
    if (prop) [property, description, inside] = [prop[1], undefined, undefined];
    if (!func || !property) continue;
    const nested = /^\t{7}(Items|AdditionalProperties): &spec\.SchemaOr(Array|Bool)\{$/.exec(line);
    if (nested) inside = nested[1] === 'Items' ? 'items' : 'additionalProperties';
    const text = /^\t{7}Description: (".*"),$/.exec(line);
    if (text) description = JSON.parse(text[1]!) as string;
    const values = /^\t{7}(\t{3})?Enum:\s+\[\]interface\{\}\{(.*)\},$/.exec(line);
    if (!values) continue;
    let fields = found.get(func);
    if (!fields) found.set(func, (fields = new Map()));
    const field = fields.get(property) ?? {};
    if (values[1]) {
      if (!inside) throw new Error(`${where}: enum values nested in neither items nor additionalProperties`);
      field.itemValues = goValues(values[2]!, where);
      field.inside = inside;
    } else {
      field.values = goValues(values[2]!, where);
    }
    if (description?.includes(ENUM_LIST)) field.description = description;
    fields.set(property, field);
  }
  const out = new Map<string, EnumField[]>();
  for (const [f, fields] of found) {
    const goType = typeOfFunc.get(f);
    if (!goType) throw new Error(`${file}: ${f} has enum fields but no entry in the definitions map`);
    out.set(definitionName(goType), [...fields].map(([property, field]) => ({ property, ...field })));
  }
  return out;
}

type Schema = { properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean; description?: string; enum?: readonly unknown[] };

/**
 * The schemas (v2 definitions or v3 component schemas, by name) with their enum fields filled in.
 * A description must be the published one plus the list (the published spec trims it), or the two
 * sources disagree and vendoring stops.
 */
export function withEnumValues<T extends Record<string, unknown>>(schemas: T, fields: ReadonlyMap<string, readonly EnumField[]>): T {
  const out: Record<string, unknown> = { ...schemas };
  for (const [name, enums] of fields) {
    const schema = out[name] as Schema | undefined;
    if (!schema?.properties) continue;
    const properties = { ...schema.properties };
    for (const field of enums) {
      const p = properties[field.property];
      if (!p) throw new Error(`${name}.${field.property}: an enum field the published schema does not have`);
      const next = { ...p };
      if (field.description) {
        const published = field.description.slice(0, field.description.indexOf(ENUM_LIST)).trim();
        if (p.description?.trim() !== published) throw new Error(`${name}.${field.property}: the published description is not the generated one without its enum values`);
        next.description = field.description;
      }
      if (field.values) next.enum = field.values;
      if (field.itemValues && field.inside) {
        const inner = p[field.inside];
        if (typeof inner !== 'object') throw new Error(`${name}.${field.property}: enum values for ${field.inside} it does not have`);
        next[field.inside] = { ...inner, enum: field.itemValues };
      }
      properties[field.property] = next;
    }
    out[name] = { ...schema, properties };
  }
  return out as T;
}
