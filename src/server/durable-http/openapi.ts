import * as z from "zod";
import { DURABLE_HTTP_PREFIX } from "./links.js";
import type { BodySpec, RouteSpec } from "./route-spec.js";
import { COMMON_QUERY, COMPONENT_SCHEMAS, type ComponentName } from "./schemas.js";

type JsonSchema = Record<string, unknown>;

const COMPONENT_REF = "#/components/schemas/";

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), without the keywords a Schema Object embedded in a document must not carry. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** The components: every named schema, referring to each other by `#/components/schemas/Name`. */
function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENT_SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: "draft-2020-12", io: "output", unrepresentable: "any", uri: (id) => `${COMPONENT_REF}${id}` }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema;
      return [id, rest];
    }),
  );
}

function ref(name: ComponentName): JsonSchema {
  return { $ref: `${COMPONENT_REF}${name}` };
}

function bodySchema(body: BodySpec): JsonSchema {
  if ("component" in body) return ref(body.component);
  if ("arrayOf" in body) return { type: "array", items: ref(body.arrayOf) };
  return jsonSchema(body.schema, "output");
}

/** One parameter: its schema (what the string must look like), description and whether it is required. */
function parameter(name: string, where: "path" | "query", schema: z.ZodType): JsonSchema {
  const { description, ...rest } = jsonSchema(schema, "input");
  return {
    name,
    in: where,
    required: where === "path" || !schema.safeParse(undefined).success,
    ...(typeof description === "string" ? { description } : {}),
    schema: rest,
  };
}

function operation(route: RouteSpec): JsonSchema {
  const parameters = [
    ...Object.entries(route.params).map(([name, schema]) => parameter(name, "path", schema)),
    ...Object.entries({ ...COMMON_QUERY, ...route.query }).map(([name, schema]) => parameter(name, "query", schema)),
    ...Object.entries(route.requestHeaders ?? {}).map(([name, description]) => ({ name, in: "header", required: false, description, schema: { type: "string" } })),
  ];
  const responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => [
      status,
      {
        description: response.description,
        ...(response.headers ? { headers: Object.fromEntries(Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: "string" } }])) } : {}),
        ...(response.body ? { content: { "application/json": { schema: bodySchema(response.body) } } } : {}),
      },
    ]),
  );
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    parameters,
    ...(route.body ? { requestBody: { required: false, description: `${route.body.description} JSON; an empty body is null.`, content: { "application/json": { schema: jsonSchema(route.body.schema, "input") } } } } : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the routes and the zod schemas that
 * validate their parameters and describe their bodies.
 */
export function openApiDocument(routes: readonly RouteSpec[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = `${DURABLE_HTTP_PREFIX}${route.path}`;
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "durable-entities: Durable Functions' HTTP management API",
      version,
      description:
        "Orchestration instances and entities over HTTP, with Durable Functions' paths, status codes, headers and bodies. Every route takes taskHub (the task hub to work in), connection and code. Errors are { error, message }.",
    },
    tags: [
      { name: "orchestrators", description: "Starting orchestrations." },
      { name: "instances", description: "Orchestration instances: status, listing, events, control, purge." },
      { name: "entities", description: "Entities: signal, read, delete, list." },
      { name: "meta", description: "This document." },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "Needed when the server runs with --auth (a token of its tokens file)." } },
    },
    security: [{}, { bearer: [] }],
  };
}
