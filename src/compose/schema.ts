/**
 * Validation against the Compose Specification's JSON schema (src/compose/compose-spec.json, a
 * copy of compose-spec's schema), with errors naming the path in the file as compose-go does:
 * `services.web.ports.0 must be a string`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020Module, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { invalidParameter } from '../common/errors.ts';
import { packageRoot } from '../common/package-root.ts';

// CommonJS module whose typings declare an ES default export.
const Ajv2020 = Ajv2020Module as unknown as typeof Ajv2020Module.default;

let validator: ValidateFunction | undefined;

function schemaPath(): string {
  return join(packageRoot(), 'src', 'compose', 'compose-spec.json');
}

function compile(): ValidateFunction {
  if (validator) return validator;
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
  validator = ajv.compile(JSON.parse(readFileSync(schemaPath(), 'utf8')));
  return validator;
}

/** Throws InvalidParameter describing the first schema violation in `doc` (from `file`). */
export function validateCompose(doc: unknown, file: string): void {
  const validate = compile();
  if (validate(doc)) return;
  const errs = validate.errors ?? [];
  throw invalidParameter(`validating ${file}: ${describe(pickError(errs))}`);
}

// The deepest error is the one the user can act on (the others are oneOf/anyOf fallout).
function pickError(errs: ErrorObject[]): ErrorObject {
  let best = errs[0] as ErrorObject;
  for (const e of errs) if (e.instancePath.length > best.instancePath.length) best = e;
  return best;
}

function describe(e: ErrorObject): string {
  const path = e.instancePath.split('/').slice(1).join('.');
  const at = path || '(root)';
  if (e.keyword === 'additionalProperties') {
    return `${at} additional properties '${(e.params as { additionalProperty: string }).additionalProperty}' not allowed`;
  }
  if (e.keyword === 'type') return `${at} must be a ${(e.params as { type: string }).type}`;
  return `${at} ${e.message ?? 'is invalid'}`;
}
