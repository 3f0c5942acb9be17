import type { Schema, Schemas } from '../openapi/schemas.js';

/**
 * The shape server-side apply needs of a type, read from its OpenAPI schema the way kube-openapi's
 * schemaconv reads it for structured-merge-diff: which maps are granular and which atomic, which
 * lists are atomic, sets, or maps keyed by some of their items' fields.
 */
export type TypeNode =
  | { readonly kind: 'scalar' }
  /** Anything, kept whole: an untyped value (no type in its schema). */
  | { readonly kind: 'untyped' }
  /** `x-kubernetes-preserve-unknown-fields`: maps granular, lists atomic, as structured-merge-diff deduces. */
  | { readonly kind: 'deduced' }
  | { readonly kind: 'map'; readonly atomic: boolean; field(name: string): TypeNode | undefined; readonly element?: TypeNode; zero(): Record<string, unknown> }
  | { readonly kind: 'list'; readonly relation: 'atomic' | 'set' | 'map'; readonly keys: readonly string[]; readonly element: TypeNode; keyDefault(key: string): unknown };

const SCALAR: TypeNode = { kind: 'scalar' };
const UNTYPED: TypeNode = { kind: 'untyped' };
export const DEDUCED: TypeNode = { kind: 'deduced' };

/** Resolves `$ref`s into the component schemas, lazily and once per schema object. */
export class TypeResolver {
  private readonly cache = new WeakMap<Schema, TypeNode>();

  constructor(private readonly schemas: Schemas) {}

  /** The schema a `$ref` or single-`allOf` wrapper stands for, with the wrapper's own keys kept. */
  deref(s: Schema): Schema {
    let out = s;
    for (let depth = 0; depth < 8; depth++) {
      const ref = out.$ref as string | undefined;
      const allOf = out.allOf as Schema[] | undefined;
      if (ref) {
        const { $ref: _, ...own } = out;
        out = { ...this.schemas[ref.replace('#/components/schemas/', '')], ...own };
      } else if (allOf?.length === 1) {
        const { allOf: _, ...own } = out;
        out = { ...allOf[0], ...own };
      } else {
        return out;
      }
    }
    return out;
  }

  node(schema: Schema | undefined): TypeNode {
    if (!schema) return DEDUCED;
    const cached = this.cache.get(schema);
    if (cached) return cached;
    const node = this.build(this.deref(schema));
    this.cache.set(schema, node);
    return node;
  }

  private build(s: Schema): TypeNode {
    if (s['x-kubernetes-int-or-string']) return SCALAR;
    const properties = s.properties as Record<string, Schema> | undefined;
    const additional = s.additionalProperties as Schema | boolean | undefined;
    if (s['x-kubernetes-preserve-unknown-fields'] && !properties) return DEDUCED;
    if (s.type === 'array') return this.list(s);
    if (s.type === 'object' || properties || additional) {
      const element = typeof additional === 'object' ? this.node(additional) : properties && !s['x-kubernetes-preserve-unknown-fields'] ? undefined : DEDUCED;
      const zero = (): Record<string, unknown> => {
        const out: Record<string, unknown> = {};
        for (const [name, prop] of Object.entries(properties ?? {})) {
          // openapi-gen marks a struct held by value (not by pointer) with `default: {}`: Go's zero object has it.
          const d = this.deref(prop).default;
          const t = this.node(prop);
          if (d && typeof d === 'object' && !Array.isArray(d) && Object.keys(d).length === 0 && t.kind === 'map') out[name] = t.zero();
        }
        // metav1.Time marshals its zero value as null.
        if (properties?.creationTimestamp) out.creationTimestamp = null;
        return out;
      };
      return {
        kind: 'map',
        atomic: s['x-kubernetes-map-type'] === 'atomic',
        field: (name) => (properties?.[name] ? this.node(properties[name]) : undefined),
        ...(element ? { element } : {}),
        zero,
      };
    }
    return s.type ? SCALAR : UNTYPED;
  }

  private list(s: Schema): TypeNode {
    const items = s.items as Schema | undefined;
    const element = items ? this.node(items) : UNTYPED;
    const keyDefault = (key: string): unknown => {
      const item = items ? this.deref(items) : undefined;
      const prop = (item?.properties as Record<string, Schema> | undefined)?.[key];
      return prop ? this.deref(prop).default : undefined;
    };
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'map') return { kind: 'list', relation: 'map', keys: (s['x-kubernetes-list-map-keys'] as string[]) ?? [], element, keyDefault };
    if (listType === 'set') return { kind: 'list', relation: 'set', keys: [], element, keyDefault };
    if (listType === undefined && String(s['x-kubernetes-patch-strategy'] ?? '').startsWith('merge')) {
      const key = s['x-kubernetes-patch-merge-key'] as string | undefined;
      return key ? { kind: 'list', relation: 'map', keys: [key], element, keyDefault } : { kind: 'list', relation: 'set', keys: [], element, keyDefault };
    }
    return { kind: 'list', relation: 'atomic', keys: [], element, keyDefault };
  }
}

/** The object Go's zero value of a type marshals to: what a create starts from. */
export function zeroOf(t: TypeNode): Record<string, unknown> {
  return t.kind === 'map' ? t.zero() : {};
}

/** The child type of a map's field, or of a map entry. */
export function childOf(t: TypeNode, name: string): TypeNode {
  if (t.kind === 'deduced') return DEDUCED;
  if (t.kind !== 'map') return UNTYPED;
  return t.field(name) ?? t.element ?? DEDUCED;
}
