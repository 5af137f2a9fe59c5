/**
 * The printed schema is committed (schema.graphql) and must match the code, and the schema must
 * keep every name and type of the public contract (shared/contracts/gateway.graphql, extended
 * by operators.graphql) that third-party clients are written against.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLInputField,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema, schema } from '../src/schema/schema.ts';

const committedPath = fileURLToPath(new URL('../schema.graphql', import.meta.url));
/** The contract's files, read in this order (operators.graphql extends gateway.graphql). */
const contractPaths = ['gateway.graphql', 'operators.graphql'].map((name) =>
  fileURLToPath(new URL(`../../../../shared/contracts/${name}`, import.meta.url)),
);

function loadContract() {
  const texts = contractPaths.map((path) => {
    if (!existsSync(path)) throw new Error(`The public contract is missing at ${path}`);
    return readFileSync(path, 'utf8');
  });
  return buildSchema(texts.join('\n'));
}

describe('schema', () => {
  it('matches the committed schema.graphql (run `pnpm --filter @zimage/gateway print-schema`)', () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(printedSchema());
  });

  it('makes no breaking change to the public contract', async () => {
    const changes = await diff(loadContract(), schema);
    const breaking = changes
      .filter((change) => change.criticality.level === CriticalityLevel.Breaking)
      .map((change) => change.message);
    expect(breaking).toEqual([]);
  });

  it('has every type, field, argument and enum value of the contract, with the same types', () => {
    const contract = loadContract();
    const missing: string[] = [];
    for (const type of Object.values(contract.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const ours = schema.getType(type.name);
      if (ours === undefined || ours.constructor !== type.constructor) {
        missing.push(`type ${type.name}`);
        continue;
      }
      if (isEnumType(type) && isEnumType(ours)) {
        for (const value of type.getValues()) {
          if (!ours.getValue(value.name)) missing.push(`${type.name}.${value.name}`);
        }
      }
      if (
        (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) &&
        (isObjectType(ours) || isInterfaceType(ours) || isInputObjectType(ours))
      ) {
        const ourFields: Record<string, GraphQLField<unknown, unknown> | GraphQLInputField> =
          ours.getFields();
        for (const field of Object.values(type.getFields())) {
          const ourField = ourFields[field.name];
          if (!ourField || String(ourField.type) !== String(field.type)) {
            missing.push(`${type.name}.${field.name}: ${String(field.type)}`);
            continue;
          }
          if ('args' in field && 'args' in ourField) {
            for (const arg of field.args) {
              const ourArg = ourField.args.find((a) => a.name === arg.name);
              if (!ourArg || String(ourArg.type) !== String(arg.type)) {
                missing.push(`${type.name}.${field.name}(${arg.name}: ${String(arg.type)})`);
              }
            }
          }
        }
      }
      if (isObjectType(type) && isObjectType(ours)) {
        for (const iface of type.getInterfaces()) {
          if (!ours.getInterfaces().some((i) => i.name === iface.name)) {
            missing.push(`${type.name} implements ${iface.name}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
