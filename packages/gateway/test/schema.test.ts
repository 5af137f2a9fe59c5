/**
 * The printed schema is committed (schema.graphql) and must match the code, and the schema must
 * keep every name and type of the public contract (shared/contracts/gateway.graphql) that
 * third-party clients are written against.
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
  Kind,
  parse,
  print,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema, schema } from '../src/schema/schema.ts';

const committedPath = fileURLToPath(new URL('../schema.graphql', import.meta.url));
const contractPath = fileURLToPath(
  new URL('../../../../shared/contracts/gateway.graphql', import.meta.url),
);

const operatorsPath = fileURLToPath(
  new URL('../../../../shared/contracts/operators.graphql', import.meta.url),
);

/** A field that operators.graphql adds to an existing type (`extend type …`). */
function operatorsField(typeName: string, fieldName: string) {
  const document = parse(readFileSync(operatorsPath, 'utf8'));
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_EXTENSION || definition.name.value !== typeName)
      continue;
    const field = definition.fields?.find((f) => f.name.value === fieldName);
    if (field) return { type: print(field.type), description: field.description?.value };
  }
  throw new Error(`operators.graphql does not extend ${typeName} with ${fieldName}`);
}

function loadContract() {
  if (!existsSync(contractPath)) {
    throw new Error(`The public contract is missing at ${contractPath}`);
  }
  return buildSchema(readFileSync(contractPath, 'utf8'));
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

  it.each([['Job', 'imagesExpiredAt']])(
    'has %s.%s as the operators contract defines it',
    (typeName, fieldName) => {
      const type = schema.getType(typeName);
      const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
      expect({ type: String(field?.type), description: field?.description }).toEqual(
        operatorsField(typeName, fieldName),
      );
    },
  );
});
