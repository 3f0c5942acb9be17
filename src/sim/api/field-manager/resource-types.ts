import { builtinSchemas, customSchemas, gvPath, schemaOfKind, type Schemas } from '../openapi/schemas.js';
import type { ResourceType } from '../resources.js';
import { DEDUCED, TypeResolver, type TypeNode } from './types.js';

/** The type of a resource's objects, from its OpenAPI schema; deduced (all granular maps) when it has none. */
const resolvers = new WeakMap<Schemas, TypeResolver>();
const types = new WeakMap<ResourceType, TypeNode>();

export function typeOfResource(r: ResourceType): TypeNode {
  const cached = types.get(r);
  if (cached) return cached;
  const schemas = builtinSchemas(gvPath(r)) ?? customSchemas([r]);
  let resolver = resolvers.get(schemas);
  if (!resolver) resolvers.set(schemas, (resolver = new TypeResolver(schemas)));
  const schema = schemaOfKind(schemas, r);
  const type = schema ? resolver.node(schema) : DEDUCED;
  types.set(r, type);
  return type;
}
