/**
 * `npm run openapi`: copies upstream Kubernetes' published OpenAPI v3 schemas, for the group
 * versions the embedded cluster serves, from the k8s.io/kubernetes module the real control plane
 * is built from (`control-plane/go.mod`; `go mod download` fetches it). Only `components.schemas`
 * is kept, gzipped, in `schemas/`: the embedded API server adds the paths of what it serves, and
 * kubectl explain, client-side validation and server-side apply read the schemas.
 * From the OpenAPI v2 document (`swagger.json`) it keeps the paths the embedded cluster serves and
 * the parameters and definitions they reach (`swagger-subset.ts`), in `schemas/swagger.json.gz`.
 * Both get the enum values the API server adds and the published spec leaves out (`enum-values.ts`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { RESOURCES } from '../resources.js';
import { enumFields, withEnumValues } from './enum-values.js';
import { gvFileName, gvPath } from './schemas.js';
import { SWAGGER_FILE } from './swagger.js';
import { swaggerSubset, type SwaggerDocument } from './swagger-subset.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const controlPlane = path.resolve(here, '../../../../control-plane');
const version = /k8s\.io\/kubernetes (v[\d.]+)/.exec(readFileSync(path.join(controlPlane, 'go.mod'), 'utf8'))?.[1];
if (!version) throw new Error('control-plane/go.mod does not require k8s.io/kubernetes');
const moduleDir = execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], { cwd: controlPlane, encoding: 'utf8' });
const kubernetesDir = (JSON.parse(moduleDir) as { Dir: string }).Dir;
const specDir = path.join(kubernetesDir, 'api/openapi-spec');
const enums = enumFields(readFileSync(path.join(kubernetesDir, 'pkg/generated/openapi/zz_generated.openapi.go'), 'utf8'));
const upstream = path.join(specDir, 'v3');

const out = path.join(here, 'schemas');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const groupVersions = [...new Set(RESOURCES.map(gvPath))].sort();
for (const gv of groupVersions) {
  const doc = JSON.parse(readFileSync(path.join(upstream, `${gv.replaceAll('/', '__')}_openapi.json`), 'utf8')) as { components: { schemas: Record<string, unknown> } };
  writeFileSync(path.join(out, gvFileName(gv)), gzipSync(JSON.stringify({ kubernetes: version, schemas: withEnumValues(doc.components.schemas, enums) }), { level: 9 }));
}
const published = JSON.parse(readFileSync(path.join(specDir, 'swagger.json'), 'utf8')) as SwaggerDocument;
const swagger = swaggerSubset({ ...published, definitions: withEnumValues(published.definitions, enums) }, RESOURCES);
writeFileSync(path.join(out, SWAGGER_FILE), gzipSync(JSON.stringify({ kubernetes: version, swagger }), { level: 9 }));
writeFileSync(path.join(out, 'VERSION'), `${version}\n`);
console.log(`${groupVersions.length} group versions and ${Object.keys(swagger.paths).length} v2 paths from k8s.io/kubernetes ${version} into ${path.relative(process.cwd(), out)}: ${readdirSync(out).length - 1} files`);
